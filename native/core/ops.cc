#include "ops.h"

#include <memory>
#include <string>
#include <vector>

#include "attention.h"
#include "linear.h"
#include "linear_lowp.h"
#include "platform.h"

namespace embedrt {

namespace {

// The ops' weight formats: Linear (float32), LinearInt8 and LinearBF16 (linear_lowp.h).
enum class Format { Float, Int8, BF16 };

constexpr const char* op_name(Format f) { return f == Format::Float ? "Linear" : f == Format::Int8 ? "LinearInt8" : "LinearBF16"; }

// An op's error, named "com.embedrt.<op>: …".
OrtStatus* op_error(const char* op, const std::string& message) {
  return Ort::GetApi().CreateStatus(ORT_INVALID_ARGUMENT, (std::string("com.embedrt.") + op + ": " + message).c_str());
}
OrtStatus* op_error(Format f, const std::string& message) { return op_error(op_name(f), message); }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

constexpr size_t kFirstWeight = 2;  // inputs: X, B, W_1, …, W_n

// ONNX Runtime's intra-op threads (the caller among them), not embedrt's pool: they are the ones
// spinning between this graph's nodes.
ParallelFor on_ort(Ort::KernelContext& ctx) {
  return [&ctx](size_t count, const std::function<void(size_t)>& fn) {
    if (count == 1) return fn(0);
    ctx.ParallelFor([](void* f, size_t i) { (*static_cast<const std::function<void(size_t)>*>(f))(i); }, count, 0,
                    const_cast<std::function<void(size_t)>*>(&fn));
  };
}

template <Format F>
class LinearKernel {
 public:
  // W's blocks are constant initializers (as in the graphs embedrt builds): packed here, once (in float32,
  // int8 or bfloat16), and their pages handed back (ONNX Runtime maps them from the checkpoint; the
  // kernel reads only the packed copy, so the process holds the weights once).
  explicit LinearKernel(const OrtKernelInfo* raw) {
    Ort::ConstKernelInfo info(raw);
    std::vector<LinearRows> blocks;
    for (size_t i = kFirstWeight; i < info.GetInputCount(); ++i) {
      const std::string name = "W_" + std::to_string(i - kFirstWeight + 1);
      int constant = 0;
      const Ort::ConstValue w = info.GetTensorConstantInput(i, &constant);
      if (constant == 0) throw Ort::Exception(name + " must be a constant initializer", ORT_INVALID_ARGUMENT);
      const std::vector<int64_t> s = w.GetTensorTypeAndShapeInfo().GetShape();
      if (s.size() != 2) throw Ort::Exception(name + " must be [rows, K], got " + shape_text(s), ORT_INVALID_ARGUMENT);
      if (blocks.empty()) k_ = static_cast<size_t>(s[1]);
      if (static_cast<size_t>(s[1]) != k_) throw Ort::Exception(name + " is " + shape_text(s) + " but W_1 has K = " + std::to_string(k_), ORT_INVALID_ARGUMENT);
      blocks.push_back({w.GetTensorData<float>(), static_cast<size_t>(s[0])});
    }
    for (const LinearRows& b : blocks) n_ += b.rows;
    if constexpr (F == Format::Float) {
      pack_linear_weights(blocks.data(), blocks.size(), k_, packed_.get(linear_packed_floats(n_, k_)));
    } else {
      lowp_ = std::make_unique<LowpLinear>(F == Format::Int8 ? LowPrecision::Int8 : LowPrecision::BF16, blocks.data(), blocks.size(), k_);
    }
    for (const LinearRows& b : blocks) platform::release_pages(b.data, b.rows * k_ * sizeof(float));
  }

  OrtStatusPtr ComputeV2(OrtKernelContext* raw) const {
    try {
      Ort::KernelContext ctx(raw);
      const Ort::ConstValue x = ctx.GetInput(0), b = ctx.GetInput(1);
      const std::vector<int64_t> xs = x.GetTensorTypeAndShapeInfo().GetShape();
      const std::vector<int64_t> bs = b.GetTensorTypeAndShapeInfo().GetShape();
      if (xs.empty()) return op_error(F, "X must have at least one dimension, got a scalar");
      if (static_cast<size_t>(xs.back()) != k_) return op_error(F, "X " + shape_text(xs) + " must end in K = " + std::to_string(k_) + " (W's)");
      if (bs.size() != 1 || static_cast<size_t>(bs[0]) != n_) {
        return op_error(F, "B must be [N] = [" + std::to_string(n_) + "] (the rows of W_1 … W_n), got " + shape_text(bs));
      }
      size_t m = 1;
      for (size_t i = 0; i + 1 < xs.size(); ++i) m *= static_cast<size_t>(xs[i]);
      std::vector<int64_t> ys = xs;
      ys.back() = static_cast<int64_t>(n_);
      Ort::UnownedValue y = ctx.GetOutput(0, ys);
      if constexpr (F == Format::Float) {
        linear_forward(x.GetTensorData<float>(), m, k_, packed_.get(), n_, b.GetTensorData<float>(), y.GetTensorMutableData<float>(), on_ort(ctx));
      } else {
        lowp_->forward(x.GetTensorData<float>(), m, b.GetTensorData<float>(), y.GetTensorMutableData<float>(), on_ort(ctx));
      }
      return nullptr;
    } catch (const Ort::Exception& e) {
      return op_error(F, e.what());
    } catch (const std::exception& e) {
      return op_error(F, e.what());
    }
  }

 private:
  AlignedFloats packed_;
  std::unique_ptr<LowpLinear> lowp_;
  size_t n_ = 0, k_ = 0;
};

template <Format F>
struct LinearOp : Ort::CustomOpBase<LinearOp<F>, LinearKernel<F>, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    try {
      *kernel = new LinearKernel<F>(info);
      return nullptr;
    } catch (const Ort::Exception& e) {
      return op_error(F, e.what());
    } catch (const std::exception& e) {
      return op_error(F, e.what());
    }
  }
  const char* GetName() const { return op_name(F); }
  const char* GetExecutionProviderType() const { return "CPUExecutionProvider"; }
  size_t GetInputTypeCount() const { return kFirstWeight + 1; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t i) const {
    return i == kFirstWeight ? INPUT_OUTPUT_VARIADIC : INPUT_OUTPUT_REQUIRED;
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// com.embedrt.Attention (attention.h).
OrtStatus* attention_error(const std::string& message) { return op_error("Attention", message); }

class AttentionKernel {
 public:
  explicit AttentionKernel(const OrtKernelInfo* raw) {
    const int64_t heads = Ort::ConstKernelInfo(raw).GetAttribute<int64_t>("num_heads");
    if (heads < 1) throw Ort::Exception("num_heads must be at least 1, got " + std::to_string(heads), ORT_INVALID_ARGUMENT);
    heads_ = static_cast<size_t>(heads);
  }

  OrtStatusPtr ComputeV2(OrtKernelContext* raw) const {
    try {
      Ort::KernelContext ctx(raw);
      const Ort::ConstValue qkv = ctx.GetInput(0), mask = ctx.GetInput(1);
      const std::vector<int64_t> qs = qkv.GetTensorTypeAndShapeInfo().GetShape();
      const std::vector<int64_t> ms = mask.GetTensorTypeAndShapeInfo().GetShape();
      if (qs.size() != 3 || qs[2] % static_cast<int64_t>(3 * heads_) != 0) {
        return attention_error("QKV must be [batch, sequence, 3 · num_heads · head_dim] (num_heads " + std::to_string(heads_) + "), got " + shape_text(qs));
      }
      if (ms != std::vector<int64_t>{qs[0], qs[1]}) {
        return attention_error("the mask must be [batch, sequence] = " + shape_text({qs[0], qs[1]}) + " (QKV's), got " + shape_text(ms));
      }
      const size_t batch = static_cast<size_t>(qs[0]), seq = static_cast<size_t>(qs[1]), H = static_cast<size_t>(qs[2]) / 3;
      Ort::UnownedValue out = ctx.GetOutput(0, {qs[0], qs[1], static_cast<int64_t>(H)});
      attention_forward(qkv.GetTensorData<float>(), mask.GetTensorData<int64_t>(), batch, seq, heads_, H / heads_,
                        out.GetTensorMutableData<float>(), on_ort(ctx));
      return nullptr;
    } catch (const std::exception& e) {
      return attention_error(e.what());
    }
  }

 private:
  size_t heads_ = 1;
};

struct AttentionOp : Ort::CustomOpBase<AttentionOp, AttentionKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi&, const OrtKernelInfo* info, void** kernel) const {
    try {
      *kernel = new AttentionKernel(info);
      return nullptr;
    } catch (const std::exception& e) {
      return attention_error(e.what());
    }
  }
  const char* GetName() const { return "Attention"; }
  const char* GetExecutionProviderType() const { return "CPUExecutionProvider"; }
  size_t GetInputTypeCount() const { return 2; }
  ONNXTensorElementDataType GetInputType(size_t i) const {
    return i == 0 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

}  // namespace

Ort::CustomOpDomain& embedrt_op_domain() {
  // Never destroyed: ONNX Runtime sessions may outlive static destruction order.
  static Ort::CustomOpDomain* domain = [] {
    static LinearOp<Format::Float> linear;
    static LinearOp<Format::Int8> linear_int8;
    static LinearOp<Format::BF16> linear_bf16;
    auto* d = new Ort::CustomOpDomain(kOpDomain);
    d->Add(&linear);
    d->Add(&linear_int8);
    d->Add(&linear_bf16);
    static AttentionOp attention;
    d->Add(&attention);
    return d;
  }();
  return *domain;
}

}  // namespace embedrt
