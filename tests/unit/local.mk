include tests/unit/core.mk
include tests/unit/config.mk
include tests/unit/auth.mk
include tests/unit/store.mk
include tests/unit/message.mk
include tests/unit/imapleaf.mk
include tests/unit/imapparse.mk
include tests/unit/searchfields.mk
