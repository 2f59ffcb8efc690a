"""Components added to wsss_mm from outside the package, loaded by ``custom_imports``."""
