"""Orchestrations: the store of uploaded orchestration zips, their validation and packaging.

An upload is checked at once and refused (:class:`OrchestrationRefused`, the platform's 4xx)
when the platform could never run it:

* the bytes are not a zip archive, or an archive member is encrypted;
* a member has an absolute path, a ``..`` component, or is a symbolic link;
* the archive has more than :attr:`ZipLimits.max_members` members, or expands to more than
  :attr:`ZipLimits.max_expanded_bytes` (checked on the headers and again while extracting,
  so a lying header does not help);
* there is no ``main.py`` anywhere;
* there is more than one ``requirements.txt``.

macOS resource forks (``__MACOSX/...``) are ignored. The entry point is the root ``main.py``,
otherwise the first nested ``main.py`` in archive order (the SDK's documented rule).

An accepted upload gets a record in ``pending_packaging``; the virtual clock then moves it to
``packaging`` and to ``ready`` (or ``error``) after :class:`PackagingTimings` seconds, so a
polling loop with ``time.sleep`` sees the same sequence as on the real platform, instantly.
``requirements.txt`` is parsed with :mod:`packaging` into the packaging log and checked against
the run environment (the interpreter isolated runs use; nothing is installed offline). By default
(``requirements="strict"``) a requirement that environment does not satisfy (missing, or another
version) makes packaging end in ``error``, the packaging log naming it with pip's ``ERROR: Could
not find a version that satisfies the requirement ...`` lines; ``Emulator(requirements="lenient")``
turns those into ``WARNING`` lines and the orchestration becomes ``ready`` (the run then uses
whatever is installed). A line that is not a valid requirement always fails packaging (pip would
have failed); ``wallaroo`` itself and requirements whose markers do not apply are never checked. The SHA is the SHA-256 of the uploaded bytes; uploads of the same
bytes share one extracted copy and one compiled ``main.py``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import os
import posixpath
import shutil
import stat
import tempfile
import weakref
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata as _metadata
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

from emulator.clock import Clock
from emulator.ids import IdGenerator
from emulator.wallaroo.errors import WallarooBackendError

if TYPE_CHECKING:  # packaging is imported when a requirements.txt is parsed (~30 ms at import otherwise)
    from packaging.requirements import Requirement

#: Statuses of ``OrchestrationStatus`` (same values in every SDK profile).
ORCHESTRATION_STATUSES = ("uninitialized", "pending_packaging", "packaging", "ready", "error")

#: Where the real platform runs an orchestration's entry point; used as the code's file name so
#: tracebacks in run logs look like the platform's and do not depend on a temporary directory.
PLATFORM_HOME = "/home/jovyan"

#: ``image_path`` / ``created_on_version`` recorded on orchestrations, per SDK profile *(guess:
#: shaped like the values in the notebooks' outputs)*.
IMAGE_PATHS = {
    "2023.2": "ghcr.io/wallaroolabs/arbex-orch-deploy:v2023.2.0-main-3271",
    "2026.1": "ghcr.io/wallaroolabs/arbex-orch-deploy:v2026.1.0-main-6000",
}
PLATFORM_VERSIONS = {"2023.2": "2023.2.0", "2026.1": "2026.1.0"}


class OrchestrationError(WallarooBackendError):
    """A request about orchestrations that the platform answers with an error status (part of the
    backend's one error hierarchy, :mod:`emulator.wallaroo.errors`)."""

    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OrchestrationRefused(OrchestrationError):
    """An upload the platform does not accept (HTTP 400)."""


class OrchestrationNotFound(OrchestrationError):
    """No orchestration with that id (HTTP 404)."""

    status = 404


@dataclass(frozen=True)
class ZipLimits:
    """Limits on an uploaded orchestration archive (documented choices of the emulator)."""

    max_members: int = 10_000
    max_expanded_bytes: int = 256 * 1024 * 1024
    max_upload_bytes: int = 256 * 1024 * 1024


@dataclass
class PackagingTimings:
    """Virtual seconds spent in each packaging state (the notebooks saw about 30-60 s)."""

    pending_seconds: float = 5.0
    packaging_seconds: float = 40.0


@dataclass
class ExtractedOrchestration:
    """One extracted archive, shared by every upload of the same bytes."""

    sha: str
    root: Path
    entrypoint: str  # archive path of the entry point, e.g. "main.py" or "pkg/main.py"
    requirements_path: str | None
    members: list[str]
    _code: CodeType | None = None
    _source: str | None = None
    _lines: list[str] | None = None

    @property
    def entry_path(self) -> Path:
        return self.root / self.entrypoint

    @property
    def entry_dir(self) -> Path:
        return self.entry_path.parent

    @property
    def code_filename(self) -> str:
        """File name the entry point's code is compiled under (``/home/jovyan/main.py``)."""
        return posixpath.join(PLATFORM_HOME, self.entrypoint)

    def source(self) -> str:
        """The entry point's text, decoded as Python decodes it (BOM, PEP 263 coding cookie)."""
        if self._source is None:
            self._source = decode_source(self.entry_path.read_bytes())
        return self._source

    def linecache_entry(self) -> tuple[int, None, list[str], str]:
        """A :mod:`linecache` entry for the entry point's source (tracebacks show its lines)."""
        if self._lines is None:
            self._lines = self.source().splitlines(True)
        return (len(self.source()), None, self._lines, self.code_filename)

    def code(self) -> CodeType:
        """The compiled entry point (compiled once; ``SyntaxError`` propagates to the run)."""
        if self._code is None:  # from bytes: the compiler honours the coding cookie (or refuses it)
            self._code = compile(self.entry_path.read_bytes(), self.code_filename, "exec", dont_inherit=True)
        return self._code


def decode_source(raw: bytes) -> str:
    """Python source bytes as text, in the encoding its BOM or PEP 263 cookie names (UTF-8 by default)."""
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:  # an unknown or conflicting cookie: compile() reports it; show the text as UTF-8
        encoding = "utf-8"
    try:
        return raw.decode(encoding, errors="replace")
    except LookupError:  # pragma: no cover - detect_encoding checked the codec
        return raw.decode("utf-8", errors="replace")


@dataclass
class OrchestrationRecord:
    """An uploaded orchestration, as the platform stores it."""

    id: str
    name: str | None
    file_name: str
    sha: str
    workspace_id: int
    owner_id: str
    task_id: str  # the platform's internal packaging task
    status: str
    created_at: _dt.datetime
    updated_at: _dt.datetime
    image_path: str
    created_on_version: str
    file_size: int
    requirements: list[Requirement] = field(default_factory=list)
    packaging_log: list[str] = field(default_factory=list)
    error: str | None = None
    extracted: ExtractedOrchestration | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The REST shape of ``/v1/api/orchestration/list`` items."""
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "sha": self.sha,
            "name": self.name,
            "file_name": self.file_name,
            "task_id": self.task_id,
            "owner_id": self.owner_id,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "image_path": self.image_path,
            "created_on_version": self.created_on_version,
            "file_size": self.file_size,
        }


# ------------------------------------------------------------------------------------------
# Zip validation and extraction
# ------------------------------------------------------------------------------------------

_IGNORED_PREFIXES = ("__MACOSX/",)
#: Longest file or folder name in an archive (what Linux file systems take), and longest member path
#: (kept well under PATH_MAX so a run's working directory can hold it).
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024


def _layout_conflict(members: list[zipfile.ZipInfo]) -> str | None:
    """A member that cannot be extracted beside the others: a file where another member needs a folder."""
    files: set[str] = set()
    folders: set[str] = set()
    for info in members:
        path = info.filename.replace("\\", "/").rstrip("/")
        parts = [p for p in path.split("/") if p not in ("", ".")]
        for depth in range(1, len(parts)):
            folders.add("/".join(parts[:depth]))
        if parts:
            (folders if info.is_dir() else files).add("/".join(parts))
    clash = sorted(files & folders)
    if clash:
        return f"member {clash[0]!r} is a file, but other members need a folder of that name"
    return None


def _is_ignored(name: str) -> bool:
    return name.startswith(_IGNORED_PREFIXES) or posixpath.basename(name.rstrip("/")) == ".DS_Store"


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"member {name!r} has an absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return f"member {name!r} has a '..' path component"
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in parts):
        return f"member {name[:80]!r}... has a path component longer than {MAX_NAME_BYTES} bytes"
    if len(name.encode("utf-8")) > MAX_PATH_BYTES:
        return f"member {name[:80]!r}... has a path longer than {MAX_PATH_BYTES} bytes"
    if "\x00" in name:
        return f"member {name!r} has a NUL character in its name"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"member {name!r} is a symbolic link"
    if info.flag_bits & 0x1:
        return f"member {name!r} is encrypted"
    return None


def inspect_archive(data: bytes, limits: ZipLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo], str, str | None]:
    """Validate an upload; return the open archive, its members, the entry point and requirements path."""
    if len(data) > limits.max_upload_bytes:
        raise OrchestrationRefused(
            f"orchestration upload is {len(data)} bytes, over the limit of {limits.max_upload_bytes} bytes"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise OrchestrationRefused("orchestration upload is not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise OrchestrationRefused(f"orchestration upload is not a readable zip archive: {exc}") from None
    if len(infos) > limits.max_members:
        raise OrchestrationRefused(
            f"orchestration archive has {len(infos)} members, over the limit of {limits.max_members}"
        )
    expanded = 0
    members: list[zipfile.ZipInfo] = []
    for info in infos:
        reason = _unsafe_reason(info)
        if reason is not None:
            raise OrchestrationRefused(f"orchestration archive refused: {reason}")
        expanded += info.file_size
        if _is_ignored(info.filename):
            continue
        members.append(info)
    conflict = _layout_conflict(members)
    if conflict is not None:
        raise OrchestrationRefused(f"orchestration archive refused: {conflict}")
    if expanded > limits.max_expanded_bytes:
        raise OrchestrationRefused(
            f"orchestration archive expands to {expanded} bytes, over the limit of {limits.max_expanded_bytes} bytes"
        )
    files = [i.filename for i in members if not i.is_dir()]
    if "main.py" in files:
        entry = "main.py"
    else:
        nested = [name for name in files if posixpath.basename(name) == "main.py"]
        if not nested:
            raise OrchestrationRefused("orchestration archive has no main.py: it will not be accepted")
        entry = nested[0]
    reqs = [name for name in files if posixpath.basename(name) == "requirements.txt"]
    if len(reqs) > 1:
        raise OrchestrationRefused(
            "orchestration archive has more than one requirements.txt (" + ", ".join(reqs) + "): not allowed"
        )
    return archive, members, entry, (reqs[0] if reqs else None)


def extract_archive(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: Path, limits: ZipLimits
) -> None:
    """Extract validated members under ``target``, counting real bytes against the limit."""
    written = 0
    root = target.resolve()
    for info in members:
        dest = (target / info.filename).resolve()
        if dest != root and root not in dest.parents:  # pragma: no cover - inspect_archive refused it
            raise OrchestrationRefused(f"member {info.filename!r} escapes the archive")
        try:
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(dest, "wb") as out:
                while True:
                    chunk = src.read(1 << 16)
                    if not chunk:
                        break
                    written += len(chunk)
                    if written > limits.max_expanded_bytes:
                        raise OrchestrationRefused(
                            f"orchestration archive expands to more than {limits.max_expanded_bytes} bytes"
                        )
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise OrchestrationRefused(f"orchestration archive is corrupt ({info.filename}): {exc}") from None
        except OSError as exc:  # what the checks above did not foresee: never a host path in the message
            reason = exc.strerror or type(exc).__name__
            raise OrchestrationRefused(f"orchestration archive refused: member {info.filename!r} cannot be "
                                       f"extracted ({reason})") from None


# ------------------------------------------------------------------------------------------
# requirements.txt
# ------------------------------------------------------------------------------------------


def parse_requirements(text: str) -> tuple[list[Requirement], list[str], list[str]]:
    """Parse a requirements.txt: (requirements, log lines, error lines)."""
    from packaging.requirements import InvalidRequirement, Requirement

    requirements: list[Requirement] = []
    log: list[str] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if line.startswith("#"):
            line = ""
        if not line:
            continue
        if line.startswith("-"):
            log.append(f"WARNING: requirements.txt line {number}: option {line!r} ignored (offline emulator)")
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            errors.append(f"ERROR: Invalid requirement: {line!r} (requirements.txt line {number}): {exc}")
            continue
        requirements.append(req)
    return requirements, log, errors


#: How unmet requirements are treated: ``strict`` fails packaging (the platform's pip would not
#: install what the run environment lacks), ``lenient`` keeps the old warning and runs anyway.
REQUIREMENT_MODES = ("strict", "lenient")


def check_requirement(req: Requirement, mode: str = "strict") -> tuple[str, str | None]:
    """One packaging-log line for ``req`` against the run environment, and, when it is unmet in
    ``strict`` mode, why (naming the package); ``None`` when it is met or only warned about."""
    if req.marker is not None and not req.marker.evaluate():
        return f"Ignoring {req}: markers {str(req.marker)!r} don't match your environment", None
    if req.name.lower().replace("_", "-") == "wallaroo":
        return f"WARNING: {req}: the Wallaroo SDK is already present and should not be listed", None
    try:
        installed = _metadata.version(req.name)
    except _metadata.PackageNotFoundError:
        if mode == "lenient":
            return f"WARNING: {req} is not installed in the emulator; nothing is installed offline", None
        return (f"ERROR: Could not find a version that satisfies the requirement {req} (not installed in the "
                f"run environment; the emulator installs nothing)", f"{req} (not installed)")
    if req.specifier and not req.specifier.contains(installed, prereleases=True):
        if mode == "lenient":
            return (
                f"WARNING: {req} is not satisfied by the installed {req.name} {installed}; "
                "nothing is installed offline, the run uses the installed version"
            ), None
        return (f"ERROR: Could not find a version that satisfies the requirement {req} (the run environment has "
                f"{req.name} {installed}; the emulator installs nothing)", f"{req} (installed {installed})")
    return f"Requirement already satisfied: {req} (installed {req.name} {installed})", None


# ------------------------------------------------------------------------------------------
# The store
# ------------------------------------------------------------------------------------------


class OrchestrationStore:
    """Every orchestration of one emulated platform; packaging progresses on the virtual clock."""

    def __init__(
        self,
        clock: Clock,
        ids: IdGenerator,
        *,
        profile: str = "2023.2",
        timings: PackagingTimings | None = None,
        limits: ZipLimits | None = None,
        requirements: str = "strict",
    ) -> None:
        if requirements not in REQUIREMENT_MODES:
            raise ValueError(f"requirements must be one of {', '.join(map(repr, REQUIREMENT_MODES))}, "
                             f"got {requirements!r}")
        #: ``strict`` (unmet requirements fail packaging) or ``lenient`` (they are warned about)
        self.requirements_mode = requirements
        self.clock = clock
        self.ids = ids
        self.profile = profile
        self.timings = timings or PackagingTimings()
        self.limits = limits or ZipLimits()
        self._records: dict[str, OrchestrationRecord] = {}
        self._extracted: dict[str, ExtractedOrchestration] = {}
        self._workdir: Path | None = None
        self._finalizer: weakref.finalize | None = None
        #: called with each accepted upload's extracted archive (the task store prewarms the fork
        #: server its isolated runs will need; None when runs are in-process)
        self.on_upload: Callable[[ExtractedOrchestration], None] | None = None

    # -- files -----------------------------------------------------------------------------
    def _root(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="wallaroo-emulator-orch-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._workdir), True)
        return self._workdir

    def run_root(self) -> Path:
        """Folder under which isolated task runs get their working directories."""
        return self._root() / "runs"

    def close(self) -> None:
        """Remove the extracted copies (the records stay readable)."""
        if self._finalizer is not None:
            self._finalizer()
        self._workdir = None
        self._finalizer = None
        self._extracted.clear()

    # -- upload ----------------------------------------------------------------------------
    def upload(
        self,
        data: bytes,
        *,
        workspace_id: int,
        name: str | None = None,
        file_name: str = "_",
        owner_id: str = "",
    ) -> OrchestrationRecord:
        """Accept (or refuse) an orchestration zip; packaging then runs on the clock."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise OrchestrationRefused(f"orchestration upload must be bytes, got {type(data).__name__}")
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        extracted = self._extracted.get(sha)
        if extracted is None:
            archive, members, entry, reqs = inspect_archive(data, self.limits)
            target = self._root() / sha[:32]
            if target.exists():  # a half-written copy of a refused earlier attempt
                shutil.rmtree(target, ignore_errors=True)
            try:
                extract_archive(archive, members, target, self.limits)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            extracted = ExtractedOrchestration(
                sha=sha, root=target, entrypoint=entry, requirements_path=reqs,
                members=[m.filename for m in members],
            )
            self._extracted[sha] = extracted
        now = self.clock.now()
        record = OrchestrationRecord(
            id=self.ids.uuid4("orchestration"),
            name=name,
            file_name=file_name,
            sha=sha,
            workspace_id=workspace_id,
            owner_id=owner_id,
            task_id=self.ids.uuid4("orchestration-packaging-task"),
            status="pending_packaging",
            created_at=now,
            updated_at=now,
            image_path=IMAGE_PATHS.get(self.profile, IMAGE_PATHS["2026.1"]),
            created_on_version=PLATFORM_VERSIONS.get(self.profile, PLATFORM_VERSIONS["2026.1"]),
            file_size=len(data),
            extracted=extracted,
        )
        self._records[record.id] = record
        if self.on_upload is not None:
            self.on_upload(extracted)
        self.clock.call_later(self.timings.pending_seconds, lambda: self._start_packaging(record),
                              name=f"orchestration {record.id} packaging")
        return record

    def _set_status(self, record: OrchestrationRecord, status: str) -> None:
        record.status = status
        record.updated_at = self.clock.now()

    def _start_packaging(self, record: OrchestrationRecord) -> None:
        self._set_status(record, "packaging")
        self.clock.call_later(self.timings.packaging_seconds, lambda: self._finish_packaging(record),
                              name=f"orchestration {record.id} ready")

    def _finish_packaging(self, record: OrchestrationRecord) -> None:
        extracted = record.extracted
        assert extracted is not None
        log = record.packaging_log
        log.append(f"Packaging orchestration {record.name or record.file_name} (sha {record.sha})")
        log.append(f"Entry point: {extracted.entrypoint}")
        errors: list[str] = []
        if extracted.requirements_path is not None:
            text = (extracted.root / extracted.requirements_path).read_text("utf-8", errors="replace")
            requirements, notes, errors = parse_requirements(text)
            record.requirements = requirements
            log.extend(notes)
            unmet: list[str] = []
            for req in requirements:
                line, why = check_requirement(req, self.requirements_mode)
                log.append(line)
                if why is not None:
                    unmet.append(why)
            if unmet:
                log.append(f"ERROR: No matching distribution found for {unmet[0].split(' (', 1)[0]}")
                errors = errors + [f"requirements not satisfied by the run environment: {', '.join(unmet)}"]
        else:
            log.append("No requirements.txt: nothing to install")
        if errors:
            log.extend(errors)
            record.error = "; ".join(errors)
            log.append("Packaging failed")
            self._set_status(record, "error")
        else:
            log.append("Packaging complete")
            self._set_status(record, "ready")

    # -- reading ---------------------------------------------------------------------------
    def get(self, orchestration_id: str) -> OrchestrationRecord:
        record = self._records.get(str(orchestration_id))
        if record is None:
            raise OrchestrationNotFound(f"orchestration {orchestration_id} not found")
        return record

    def list(self, workspace_ids: list[int] | None = None) -> list[OrchestrationRecord]:
        """Orchestrations in upload order, optionally only those of some workspaces."""
        records = list(self._records.values())
        if workspace_ids is not None:
            wanted = set(workspace_ids)
            records = [r for r in records if r.workspace_id in wanted]
        return records

    def by_sha(self, sha: str) -> list[OrchestrationRecord]:
        return [r for r in self._records.values() if r.sha == sha]

    def __len__(self) -> int:
        return len(self._records)


def read_upload(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an orchestration file to upload."""
    return Path(path).read_bytes()
