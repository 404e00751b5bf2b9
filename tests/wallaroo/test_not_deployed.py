"""``infer`` on an undeployed pipeline: the real SDK's error text, and a note that names the pipeline."""

from __future__ import annotations

import traceback
from typing import Any

import pandas as pd
import pytest
from wallaroo_testkit import house_rows


def test_the_error_keeps_the_sdks_text_and_names_the_pipeline(deployed: Any, wl: Any, house_model: Any) -> None:
    frame = pd.DataFrame({"tensor": house_rows(1).tolist()})
    never = wl.build_pipeline("never-deployed").add_model_step(house_model)
    with pytest.raises(RuntimeError) as caught:
        never.infer(frame)
    # the real SDKs' message has literal braces: code matching it keeps working
    assert str(caught.value) == "Pipeline {self.name} is not deployed"
    shown = "".join(traceback.format_exception(caught.value))
    assert "wallaroo-emulator: pipeline 'never-deployed' has no running deployment; call pipeline.deploy()" in shown
    deployed.undeploy()
    with pytest.raises(RuntimeError) as again:
        deployed.infer(frame)
    assert any(repr(deployed.name()) in note for note in again.value.__notes__)
