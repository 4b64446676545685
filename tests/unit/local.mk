include tests/unit/core.mk
include tests/unit/config.mk
