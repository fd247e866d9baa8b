import os
import sys
import tempfile

# A fresh Inductor cache per test session: torch's cache is not keyed on
# ATEN_CPU_CAPABILITY, and kernels cached under one capability have crashed
# (heap corruption) when reused under another, even for plain torch models.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="torch_act_inductor_"))

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

torch.manual_seed(0)
