import atexit
import os
import shutil
import sys
import tempfile

# A fresh Inductor cache per test session: torch's cache is not keyed on
# ATEN_CPU_CAPABILITY, and kernels cached under one capability have crashed
# (heap corruption) when reused under another, even for plain torch models.
# Removed when the session ends, so test runs do not pile up in /tmp.
if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    _cache_dir = tempfile.mkdtemp(prefix="torch_act_inductor_")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = _cache_dir
    atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

torch.manual_seed(0)
