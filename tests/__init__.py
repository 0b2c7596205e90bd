"""The test suite (a package, so that test modules import the op table and conftest's helpers
with relative imports: `from .reference.op_table import OPS`, `from .conftest import assert_close`)."""
