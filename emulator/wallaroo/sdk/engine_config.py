"""``wallaroo.engine_config``: target architecture and acceleration enums."""

from __future__ import annotations

from enum import Enum


class Architecture(str, Enum):
    X86 = "x86"
    ARM = "arm"
    Power10 = "power10"

    @classmethod
    def default(cls) -> Architecture:
        return cls.X86

    def __str__(self) -> str:
        return str(self.value)


class Acceleration(str, Enum):
    _None = "none"
    CUDA = "cuda"
    Jetson = "jetson"
    OpenVINO = "openvino"
    QAIC = "qaic"
    ROCM = "rocm"

    @classmethod
    def default(cls) -> Acceleration:
        return cls._None

    def __str__(self) -> str:
        return str(self.value)
