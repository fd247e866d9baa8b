// The CUDA launchers of every activation's backward: its functor method
// (activations.h) run through the loops of elementwise.cuh. One file per
// method, so the three compile in parallel.
#include "elementwise.cuh"

namespace torch_act {
namespace cuda {

LaunchTable backward_launchers() { return launchers_for<Backward>(); }

}  // namespace cuda
}  // namespace torch_act
