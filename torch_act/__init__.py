"""torch_act: activation functions as C++ ATen operators with hand-written gradients.

``torch_act.functional`` mirrors ``torch.nn.functional``; ``torch_act.nn``
mirrors ``torch.nn``'s activation modules. The operators themselves are
``torch.ops.torch_act.<name>`` (and ``<name>_backward``), usable from C++.
"""

import torch  # noqa: F401  (loads libtorch/libc10, which _C links against)

from . import _C  # noqa: F401  (loading the library registers torch.ops.torch_act.*)
from . import functional, memory, nn
from ._spec import ACTIVATIONS
from ._convert import ConvertReport, convert, get_activation, list_activations
from ._patch import Patch, patch, routed_functions, unpatch
from ._decompositions import compile_mode, set_compile_mode

__version__ = "0.1.0"


def cpu_capability() -> str:
    """The CPU kernel variant in use: "DEFAULT", "AVX2" or "AVX512". It follows
    torch's own choice, so ATEN_CPU_CAPABILITY=default|avx2|avx512 forces it."""
    return torch.ops.torch_act._cpu_capability()


def has_cuda_kernels() -> bool:
    """Whether this build of torch_act has its CUDA kernels (built when the
    torch it was compiled against has CUDA and nvcc was found)."""
    return torch.ops.torch_act._has_cuda_kernels()


__all__ = [
    "functional",
    "nn",
    "memory",
    "ACTIVATIONS",
    "cpu_capability",
    "has_cuda_kernels",
    "__version__",
    "convert",
    "get_activation",
    "list_activations",
    "compile_mode",
    "set_compile_mode",
    "ConvertReport",
    "patch",
    "unpatch",
    "Patch",
    "routed_functions",
]
