// One ONNX Runtime session over a BERT-style encoder graph: ids in, last_hidden_state out.
#pragma once

#include "ort_api.h"

#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace embedrt {

struct SessionConfig {
  std::string model_path;
  int intra_op_threads = 0;             // 0: ONNX Runtime's default (physical cores)
  bool optimize = true;                 // graph optimization level "all"
  std::string optimized_model_path;     // where ONNX Runtime saves the optimized graph ("" = don't)
  std::string device = "cpu";           // cpu | cuda | tensorrt | auto
  int device_id = 0;
  std::string output = "last_hidden_state";  // the output read: last_hidden_state, or a cross-encoder's logits
};

class InferenceSession {
 public:
  explicit InferenceSession(const SessionConfig& config);

  // ids, mask and type ids are row-major [batch, seq]; out receives [batch, seq, hidden], or
  // [batch, 1, hidden] from a graph that returns only the first (CLS) row (cls_only()).
  void run(const std::vector<int64_t>& ids, const std::vector<int64_t>& mask, const std::vector<int64_t>& types,
           size_t batch, size_t seq, std::vector<float>& out) const;

  size_t hidden_size() const { return hidden_; }
  // The graph's output has a fixed sequence length of 1: the CLS row only (embedrt builds such a
  // graph for CLS-pooled models).
  bool cls_only() const { return cls_only_; }
  // The execution provider in use, and why 'auto' fell back to the CPU ("" when it did not).
  const std::string& provider() const { return provider_; }
  const std::string& fallback_reason() const { return fallback_; }

 private:
  void check_signature(const std::string& path, const std::string& wanted);
  static bool is_model_error(const Ort::Exception& e);

  std::unique_ptr<Ort::Session> session_;
  bool has_token_type_ids_ = false;
  size_t hidden_ = 0;
  bool cls_only_ = false;
  std::string output_ = "last_hidden_state";  // or "logits" ([batch, labels]: a cross-encoder graph)
  std::string provider_;
  std::string fallback_;
};


}  // namespace embedrt
