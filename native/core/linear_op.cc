#include "linear_op.h"

#include <string>
#include <vector>

#include "linear.h"

namespace embedrt {

namespace {

OrtStatus* op_error(const std::string& message) {
  return Ort::GetApi().CreateStatus(ORT_INVALID_ARGUMENT, ("com.embedrt.Linear: " + message).c_str());
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

struct LinearKernel {
  OrtStatusPtr ComputeV2(OrtKernelContext* raw) const {
    try {
      Ort::KernelContext ctx(raw);
      const Ort::ConstValue x = ctx.GetInput(0), w = ctx.GetInput(1), b = ctx.GetInput(2);
      const std::vector<int64_t> xs = x.GetTensorTypeAndShapeInfo().GetShape();
      const std::vector<int64_t> ws = w.GetTensorTypeAndShapeInfo().GetShape();
      const std::vector<int64_t> bs = b.GetTensorTypeAndShapeInfo().GetShape();
      if (xs.empty()) return op_error("X must have at least one dimension, got a scalar");
      if (bs.size() != 1) return op_error("B must be [N], got " + shape_text(bs));
      const int64_t panels = (bs[0] + static_cast<int64_t>(kPanelCols) - 1) / static_cast<int64_t>(kPanelCols);
      if (ws.size() != 3 || ws[0] != panels || ws[1] != xs.back() || ws[2] != static_cast<int64_t>(kPanelCols)) {
        return op_error("W must be [ceil(N / 16), K, 16] = [" + std::to_string(panels) + ", " + std::to_string(xs.back()) +
                        ", 16] for X " + shape_text(xs) + " and B " + shape_text(bs) + ", got " + shape_text(ws));
      }
      size_t m = 1;
      for (size_t i = 0; i + 1 < xs.size(); ++i) m *= static_cast<size_t>(xs[i]);
      const auto k = static_cast<size_t>(ws[1]), n = static_cast<size_t>(bs[0]);
      std::vector<int64_t> ys = xs;
      ys.back() = bs[0];
      Ort::UnownedValue y = ctx.GetOutput(0, ys);
      // ONNX Runtime's intra-op threads (the caller among them), not embedrt's pool: they are the
      // ones spinning between this graph's nodes.
      const ParallelFor on_ort = [&ctx](size_t count, const std::function<void(size_t)>& fn) {
        if (count == 1) return fn(0);
        ctx.ParallelFor([](void* f, size_t i) { (*static_cast<const std::function<void(size_t)>*>(f))(i); }, count, 0,
                        const_cast<std::function<void(size_t)>*>(&fn));
      };
      linear_forward(x.GetTensorData<float>(), m, k, w.GetTensorData<float>(), n, b.GetTensorData<float>(),
                     y.GetTensorMutableData<float>(), on_ort);
      return nullptr;
    } catch (const Ort::Exception& e) {
      return op_error(e.what());
    } catch (const std::exception& e) {
      return op_error(e.what());
    }
  }
};

struct LinearOp : Ort::CustomOpBase<LinearOp, LinearKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo*, void** kernel) const {
    *kernel = new LinearKernel();
    return nullptr;
  }
  const char* GetName() const { return "Linear"; }
  const char* GetExecutionProviderType() const { return "CPUExecutionProvider"; }
  size_t GetInputTypeCount() const { return 3; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

}  // namespace

Ort::CustomOpDomain& embedrt_op_domain() {
  // Never destroyed: ONNX Runtime sessions may outlive static destruction order.
  static Ort::CustomOpDomain* domain = [] {
    static LinearOp linear;
    auto* d = new Ort::CustomOpDomain(kOpDomain);
    d->Add(&linear);
    return d;
  }();
  return *domain;
}

}  // namespace embedrt
