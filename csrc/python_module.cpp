// Makes the op library importable as torch_act._C. Loading it runs the static
// TORCH_LIBRARY registrations; the module itself has no Python functions. The
// LibTorch build (CMakeLists.txt) leaves this file out.
#include <Python.h>

PyMODINIT_FUNC PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}
