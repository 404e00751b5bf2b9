"""``wallaroo.framework``: the ``Framework`` enum of model frameworks."""

from __future__ import annotations

from enum import Enum


class Framework(str, Enum):
    ONNX = "onnx"
    TENSORFLOW = "tensorflow"
    PYTHON = "python"
    KERAS = "keras"
    SKLEARN = "sklearn"
    PYTORCH = "pytorch"
    XGBOOST = "xgboost"
    HUGGING_FACE_FEATURE_EXTRACTION = "hugging-face-feature-extraction"
    HUGGING_FACE_IMAGE_CLASSIFICATION = "hugging-face-image-classification"
    HUGGING_FACE_IMAGE_SEGMENTATION = "hugging-face-image-segmentation"
    HUGGING_FACE_IMAGE_TO_TEXT = "hugging-face-image-to-text"
    HUGGING_FACE_OBJECT_DETECTION = "hugging-face-object-detection"
    HUGGING_FACE_QUESTION_ANSWERING = "hugging-face-question-answering"
    HUGGING_FACE_STABLE_DIFFUSION_TEXT_2_IMG = "hugging-face-stable-diffusion-text-2-img"
    HUGGING_FACE_SUMMARIZATION = "hugging-face-summarization"
    HUGGING_FACE_TEXT_CLASSIFICATION = "hugging-face-text-classification"
    HUGGING_FACE_TRANSLATION = "hugging-face-translation"
    HUGGING_FACE_ZERO_SHOT_CLASSIFICATION = "hugging-face-zero-shot-classification"
    HUGGING_FACE_ZERO_SHOT_IMAGE_CLASSIFICATION = "hugging-face-zero-shot-image-classification"
    HUGGING_FACE_ZERO_SHOT_OBJECT_DETECTION = "hugging-face-zero-shot-object-detection"
    HUGGING_FACE_SENTIMENT_ANALYSIS = "hugging-face-sentiment-analysis"
    HUGGING_FACE_TEXT_GENERATION = "hugging-face-text-generation"
    HUGGING_FACE_AUTOMATIC_SPEECH_RECOGNITION = "hugging-face-automatic-speech-recognition"
    CUSTOM = "custom"
    VLLM = "vllm"
    SGLANG = "sglang"

    def __str__(self) -> str:
        return str(self.value)


def check_available(framework: Framework) -> None:
    """Newest-only values are refused in the 2023.2 profile, like the 2023.2 enum lacks them."""
    from emulator.wallaroo import profiles

    profile = profiles.current()
    if not profile.newest and framework.value in profiles.get("2026.1").frameworks_extra:
        raise ValueError(f"'{framework.value}' is not a valid Framework")
