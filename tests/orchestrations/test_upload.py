"""Orchestration uploads: what is refused, what is recorded, and packaging on the virtual clock."""

from __future__ import annotations

import hashlib

import pytest

from emulator.wallaroo.orchestrations import OrchestrationRefused, PackagingTimings, ZipLimits

MAIN = "print('hi')\n"


def test_sha_is_sha256_of_the_zip_and_same_bytes_share_it(make_zip, platform):
    data = make_zip({"main.py": MAIN})
    first = platform.orchestrations.upload(data, workspace_id=1, name="a", file_name="a.zip")
    second = platform.orchestrations.upload(data, workspace_id=1, name="b", file_name="b.zip")
    assert first.sha == second.sha == hashlib.sha256(data).hexdigest()
    assert first.id != second.id
    assert first.extracted is second.extracted  # extracted once
    assert first.file_size == len(data)


@pytest.mark.parametrize(
    ("files", "symlinks", "message"),
    [
        ({"helper.py": "x = 1\n"}, None, "no main.py"),
        ({"/main.py": MAIN}, None, "absolute path"),
        ({"main.py": MAIN, "../evil.py": "x"}, None, "'..'"),
        ({"main.py": MAIN, "a/../../evil.py": "x"}, None, "'..'"),
        ({"main.py": MAIN}, {"link": "/etc/passwd"}, "symbolic link"),
        ({"main.py": MAIN, "requirements.txt": "", "sub/requirements.txt": ""}, None, "more than one requirements.txt"),
    ],
)
def test_refused_archives(make_zip, platform, files, symlinks, message):
    with pytest.raises(OrchestrationRefused, match=message):
        platform.orchestrations.upload(make_zip(files, symlinks=symlinks), workspace_id=1)
    assert len(platform.orchestrations) == 0


def test_not_a_zip_is_refused(make_zip, platform):
    with pytest.raises(OrchestrationRefused, match="not a zip"):
        platform.orchestrations.upload(b"print('hello')\n", workspace_id=1)
    with pytest.raises(OrchestrationRefused, match="not a zip"):
        platform.orchestrations.upload(b"", workspace_id=1)


def test_too_many_members_is_refused(make_zip, platform):
    platform.orchestrations.limits = ZipLimits(max_members=5)
    files = {"main.py": MAIN, **{f"data/{i}.txt": "x" for i in range(5)}}
    with pytest.raises(OrchestrationRefused, match="members, over the limit of 5"):
        platform.orchestrations.upload(make_zip(files), workspace_id=1)


def test_expanding_too_much_is_refused(make_zip, platform):
    platform.orchestrations.limits = ZipLimits(max_expanded_bytes=10_000)
    bomb = make_zip({"main.py": MAIN, "zeros.bin": b"\0" * 1_000_000})
    assert len(bomb) < 10_000  # compresses well: only the expanded size gives it away
    with pytest.raises(OrchestrationRefused, match="expands to"):
        platform.orchestrations.upload(bomb, workspace_id=1)


def test_lying_headers_are_caught_while_extracting(make_zip, platform, monkeypatch):
    from emulator.wallaroo import orchestrations as module

    platform.orchestrations.limits = ZipLimits(max_expanded_bytes=10_000)
    real = module.inspect_archive

    def lying(data, limits):  # the header check passes, as it would for headers declaring tiny sizes
        return real(data, ZipLimits())

    monkeypatch.setattr(module, "inspect_archive", lying)
    with pytest.raises(OrchestrationRefused, match="more than 10000 bytes"):
        platform.orchestrations.upload(make_zip({"main.py": MAIN, "z.bin": b"\0" * 50_000}), workspace_id=1)


def test_corrupt_member_is_refused(make_zip, platform):
    data = bytearray(make_zip({"main.py": MAIN * 50}))
    start = data.index(b"main.py") + len(b"main.py")
    data[start + 5] ^= 0xFF  # damage the compressed bytes of main.py
    with pytest.raises(OrchestrationRefused, match="corrupt"):
        platform.orchestrations.upload(bytes(data), workspace_id=1)


def test_entry_point_root_first_then_first_nested(make_zip, platform):
    root = platform.orchestrations.upload(make_zip({"pkg/main.py": MAIN, "main.py": MAIN}), workspace_id=1)
    assert root.extracted.entrypoint == "main.py"
    nested = platform.orchestrations.upload(make_zip({"b/main.py": MAIN, "a/main.py": MAIN}), workspace_id=1)
    assert nested.extracted.entrypoint == "b/main.py"
    assert nested.extracted.code_filename == "/home/jovyan/b/main.py"


def test_macos_resource_forks_are_ignored(make_zip, platform):
    record = platform.orchestrations.upload(
        make_zip({"__MACOSX/main.py": "junk", "__MACOSX/requirements.txt": "", "main.py": MAIN,
                  "requirements.txt": ""}), workspace_id=1)
    assert record.extracted.entrypoint == "main.py"


def test_packaging_statuses_follow_the_clock(make_zip, platform):
    platform.orchestrations.timings = PackagingTimings(pending_seconds=3, packaging_seconds=30)
    record = platform.orchestrations.upload(make_zip({"main.py": MAIN}), workspace_id=1)
    seen = [record.status]
    import time

    for _ in range(10):
        time.sleep(5)  # the tutorial's polling loop, instantly
        seen.append(record.status)
    assert seen[:2] == ["pending_packaging", "packaging"]
    assert seen.index("ready") == 7  # 3 + 30 seconds: ready at the 7th poll (35 s)
    assert record.updated_at == platform.clock.start + __import__("datetime").timedelta(seconds=33)


def test_requirements_are_parsed_and_unmet_ones_warned_when_lenient(make_zip, platform):
    platform.orchestrations.requirements_mode = "lenient"
    record = platform.upload({
        "main.py": MAIN,
        "requirements.txt": "# deps\npandas>=1.0\ngoogle-cloud-bigquery==3.10.0\nno-such-package-xyz==1.2\n"
                            "wallaroo==2023.2.0\n--index-url https://example.invalid\nfoo; python_version < '3'\n",
    })
    assert record.status == "ready"
    assert [r.name for r in record.requirements] == [
        "pandas", "google-cloud-bigquery", "no-such-package-xyz", "wallaroo", "foo"]
    log = "\n".join(record.packaging_log)
    assert "Requirement already satisfied: pandas>=1.0" in log
    assert "WARNING: google-cloud-bigquery==3.10.0 is not satisfied by the installed" in log
    assert "WARNING: no-such-package-xyz==1.2 is not installed in the emulator" in log
    assert "Wallaroo SDK is already present" in log
    assert "option '--index-url https://example.invalid' ignored" in log
    assert "Ignoring foo" in log


def test_invalid_requirement_makes_packaging_fail(make_zip, platform):
    record = platform.upload({"main.py": MAIN, "requirements.txt": "pandas>>>1\n"})
    assert record.status == "error"
    assert "Invalid requirement" in record.error


def test_listing_by_workspace(make_zip, platform):
    a = platform.upload({"main.py": MAIN}, workspace_id=1, ready=False)
    b = platform.upload({"main.py": "print(2)\n"}, workspace_id=2, ready=False)
    assert platform.orchestrations.list() == [a, b]
    assert platform.orchestrations.list([2]) == [b]
    assert platform.orchestrations.by_sha(a.sha) == [a]
