"""torch_act: activation functions as C++ ATen operators with hand-written gradients."""
from . import _C  # noqa: F401  (loading the library registers torch.ops.torch_act.*)

__version__ = "0.1.0"
