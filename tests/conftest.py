import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# `from factory_checks import check_factory` in any test module.
sys.path.insert(0, os.path.dirname(__file__))
