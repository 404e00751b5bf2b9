"""Third-party test suites run against the emulator (conformance jobs called by ``.ci/run``)."""
