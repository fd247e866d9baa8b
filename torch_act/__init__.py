"""torch_act: activation functions as C++ ATen operators with hand-written gradients.

``torch_act.functional`` mirrors ``torch.nn.functional``; ``torch_act.nn``
mirrors ``torch.nn``'s activation modules. The operators themselves are
``torch.ops.torch_act.<name>`` (and ``<name>_backward``), usable from C++.
"""
from . import _C  # noqa: F401  (loading the library registers torch.ops.torch_act.*)
from . import functional, nn
from ._spec import ACTIVATIONS

__version__ = "0.1.0"

__all__ = ["functional", "nn", "ACTIVATIONS", "__version__"]
