#include "gemm.h"

#include <mutex>
#include <string>
#include <thread>

#include "ort_runtime.h"

namespace embedrt {

namespace {

// A minimal protobuf writer for one ONNX model: Gemm(A, B, transB = 1) with symbolic shapes.
struct Proto {
  std::string out;
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  }
  void tag(int field, int wire) { varint(static_cast<uint64_t>(field << 3 | wire)); }
  void integer(int field, uint64_t v) {
    tag(field, 0);
    varint(v);
  }
  void bytes(int field, const std::string& s) {
    tag(field, 2);
    varint(s.size());
    out += s;
  }
};

std::string value_info(const std::string& name, const char* d0, const char* d1) {
  Proto shape;
  for (const char* d : {d0, d1}) {
    Proto dim;
    dim.bytes(2, d);  // dim_param
    shape.bytes(1, dim.out);
  }
  Proto tensor;
  tensor.integer(1, 1);  // elem_type FLOAT
  tensor.bytes(2, shape.out);
  Proto type;
  type.bytes(1, tensor.out);
  Proto vi;
  vi.bytes(1, name);
  vi.bytes(2, type.out);
  return vi.out;
}

std::string gemm_model() {
  Proto attr;
  attr.bytes(1, "transB");
  attr.integer(3, 1);
  attr.integer(20, 2);  // INT
  Proto node;
  node.bytes(1, "A");
  node.bytes(1, "B");
  node.bytes(2, "C");
  node.bytes(4, "Gemm");
  node.bytes(5, attr.out);
  Proto graph;
  graph.bytes(1, node.out);
  graph.bytes(2, "gemm_abt");
  graph.bytes(11, value_info("A", "m", "k"));
  graph.bytes(11, value_info("B", "n", "k"));
  graph.bytes(12, value_info("C", "m", "n"));
  Proto opset;
  opset.bytes(1, "");
  opset.integer(2, 17);
  Proto model;
  model.integer(1, 8);
  model.bytes(2, "embedrt");
  model.bytes(7, graph.out);
  model.bytes(8, opset.out);
  return model.out;
}

Ort::Session& session() {
  static std::once_flag once;
  static Ort::Session* s = nullptr;
  std::call_once(once, [] {
    Ort::Env& env = ort_env();  // initialises the API table before any Ort:: object
    Ort::SessionOptions o;
    o.SetIntraOpNumThreads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    o.SetInterOpNumThreads(1);
    o.DisableCpuMemArena();
    const std::string bytes = gemm_model();
    s = new Ort::Session(env, bytes.data(), bytes.size(), o);  // lives for the process
  });
  return *s;
}

}  // namespace

void gemm_abt(const float* a, size_t m, const float* b, size_t n, size_t k, float* c) {
  Ort::Session& s = session();  // first: it initialises the ORT API the tensors below use
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const int64_t sa[2] = {static_cast<int64_t>(m), static_cast<int64_t>(k)};
  const int64_t sb[2] = {static_cast<int64_t>(n), static_cast<int64_t>(k)};
  const int64_t sc[2] = {static_cast<int64_t>(m), static_cast<int64_t>(n)};
  Ort::Value inputs[2] = {Ort::Value::CreateTensor<float>(mem, const_cast<float*>(a), m * k, sa, 2),
                          Ort::Value::CreateTensor<float>(mem, const_cast<float*>(b), n * k, sb, 2)};
  Ort::Value output = Ort::Value::CreateTensor<float>(mem, c, m * n, sc, 2);
  const char* in_names[] = {"A", "B"};
  const char* out_names[] = {"C"};
  s.Run(Ort::RunOptions{}, in_names, inputs, 2, out_names, &output, 1);
}

}  // namespace embedrt
