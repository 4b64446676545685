include tests/unit/core.mk
