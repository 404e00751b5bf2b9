"""The emulated Wallaroo platform.

* :mod:`emulator.wallaroo.backend` — platform state and behaviour (plain objects, no HTTP).
* :mod:`emulator.wallaroo.inference` — ONNX execution and the result shapes of ``infer``.
* :mod:`emulator.wallaroo.profiles` — differences between the 2023.2 and the newest SDK.
* :mod:`emulator.wallaroo.activation` — mapping ``wallaroo`` onto :mod:`emulator.wallaroo.sdk`.
* :mod:`emulator.wallaroo.sdk` — the ``wallaroo`` module user code imports.
"""
