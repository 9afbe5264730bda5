#include "tokenizer_config_reader.h"

#include <string>
#include <vector>

#include "napi_util.h"

namespace embedrt {
namespace {

std::vector<TemplatePiece> read_template(const Napi::Array& arr) {
  std::vector<TemplatePiece> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    TemplatePiece p;
    const int64_t seq = get_int(o, "sequence");
    p.is_sequence = seq >= 0;
    p.sequence = static_cast<int>(seq);
    p.type_id = static_cast<uint32_t>(get_int(o, "typeId"));
    Napi::Array ids = o.Get("ids").As<Napi::Array>();
    Napi::Array tokens = o.Get("tokens").As<Napi::Array>();
    for (uint32_t j = 0; j < ids.Length(); ++j) {
      p.ids.push_back(static_cast<int32_t>(ids.Get(j).As<Napi::Number>().Int32Value()));
      p.tokens.push_back(tokens.Get(j).As<Napi::String>().Utf8Value());
    }
    out.push_back(std::move(p));
  }
  return out;
}

// The vocabulary as lib/tokenizer-config.ts packs it: one string, and each token's length in UTF-16
// code units (their sum is the string's length; checked here all the same, since it sizes the reads).
std::vector<std::string> read_vocab(Napi::Env env, const Napi::Object& o) {
  const std::u16string text = copy_utf16(env, o.Get("vocabText"));
  Napi::Uint32Array lengths = o.Get("vocabLengths").As<Napi::Uint32Array>();
  std::vector<std::string> vocab(lengths.ElementLength());
  size_t at = 0;
  for (size_t i = 0; i < vocab.size(); ++i) {
    const size_t n = lengths[i];
    if (n > text.size() - at) throw CodedError("E_INTERNAL", "tokenizer config: the vocabulary's lengths overrun its text");
    unicode::utf16_to_utf8(text.data() + at, n, vocab[i]);
    at += n;
  }
  if (at != text.size()) throw CodedError("E_INTERNAL", "tokenizer config: the vocabulary's lengths do not cover its text");
  return vocab;
}

char32_t get_char(Napi::Env env, const Napi::Object& o, const char* key) {
  std::vector<char32_t> cps;
  unicode::decode_utf8(to_utf8(copy_utf16(env, o.Get(key))), cps);
  if (cps.size() != 1) throw CodedError("E_INTERNAL", std::string("tokenizer config: ") + key + " must be one character");
  return cps[0];
}

std::u32string get_u32(Napi::Env env, const Napi::Object& o, const char* key) {
  std::vector<char32_t> cps;
  unicode::decode_utf8(to_utf8(copy_utf16(env, o.Get(key))), cps);
  return std::u32string(cps.begin(), cps.end());
}

// The SentencePiece normalizer steps ({kind, charsmap, left, right, pattern, minRepeat, content}).
std::vector<SpNormalizerStep> read_sp_normalizer(Napi::Env env, const Napi::Array& arr) {
  std::vector<SpNormalizerStep> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    SpNormalizerStep step;
    const std::string kind = get_string(o, "kind");
    if (kind == "precompiled") {
      step.kind = SpNormalizerStep::kPrecompiled;
      Napi::Uint8Array blob = o.Get("charsmap").As<Napi::Uint8Array>();
      step.charsmap.assign(reinterpret_cast<const char*>(blob.Data()), blob.ByteLength());
    } else if (kind == "strip") {
      step.kind = SpNormalizerStep::kStrip;
      step.left = get_bool(o, "left");
      step.right = get_bool(o, "right");
    } else if (kind == "replace") {
      step.kind = SpNormalizerStep::kReplace;
      step.pattern = get_u32(env, o, "pattern");
      step.min_repeat = static_cast<size_t>(get_int(o, "minRepeat"));
      step.content = get_u32(env, o, "content");
    } else {
      throw CodedError("E_INTERNAL", "tokenizer config: unknown normalizer step " + kind);
    }
    out.push_back(std::move(step));
  }
  return out;
}

}  // namespace

TokenizerConfig read_tokenizer_config(Napi::Env env, const Napi::Object& o) {
  TokenizerConfig c;
  c.normalize = get_bool(o, "normalize");
  c.clean_text = get_bool(o, "cleanText");
  c.handle_chinese_chars = get_bool(o, "handleChineseChars");
  c.strip_accents = get_bool(o, "stripAccents");
  c.lowercase = get_bool(o, "lowercase");
  c.pre_tokenize = get_bool(o, "preTokenize");
  c.vocab = read_vocab(env, o);
  c.unk_id = static_cast<int32_t>(get_int(o, "unkId"));
  c.unigram = get_bool(o, "unigram");
  if (c.unigram) {
    Napi::Float64Array scores = o.Get("scores").As<Napi::Float64Array>();
    c.scores.assign(scores.Data(), scores.Data() + scores.ElementLength());
    if (c.scores.size() != c.vocab.size()) throw CodedError("E_INTERNAL", "tokenizer config: a score per vocabulary entry expected");
    c.sp_normalizer = read_sp_normalizer(env, o.Get("spNormalizer").As<Napi::Array>());
  }
  c.metaspace = get_bool(o, "metaspace");
  c.metaspace_replacement = get_char(env, o, "metaspaceReplacement");
  c.metaspace_prepend = get_bool(o, "metaspacePrepend");
  c.metaspace_split = get_bool(o, "metaspaceSplit");
  c.continuing_subword_prefix = get_string(o, "continuingSubwordPrefix");
  c.max_input_chars_per_word = static_cast<size_t>(get_int(o, "maxInputCharsPerWord"));
  Napi::Array added = o.Get("addedTokens").As<Napi::Array>();
  for (uint32_t i = 0; i < added.Length(); ++i) {
    Napi::Object a = added.Get(i).As<Napi::Object>();
    AddedToken t;
    t.content = get_string(a, "content");
    t.id = static_cast<int32_t>(get_int(a, "id"));
    t.special = get_bool(a, "special");
    t.normalized = get_bool(a, "normalized");
    t.lstrip = get_bool(a, "lstrip");
    t.rstrip = get_bool(a, "rstrip");
    t.single_word = get_bool(a, "singleWord");
    c.added_tokens.push_back(std::move(t));
  }
  c.single = read_template(o.Get("single").As<Napi::Array>());
  c.pair = read_template(o.Get("pair").As<Napi::Array>());
  c.trim_offsets = get_bool(o, "trimOffsets");
  c.trim_add_prefix_space = get_bool(o, "trimAddPrefixSpace");
  c.wordpiece_decoder = get_bool(o, "wordpieceDecoder");
  c.decoder_prefix = get_string(o, "decoderPrefix");
  c.decoder_cleanup = get_bool(o, "decoderCleanup");
  c.metaspace_decoder = get_bool(o, "metaspaceDecoder");
  c.metaspace_decoder_replacement = get_char(env, o, "metaspaceDecoderReplacement");
  c.metaspace_decoder_prepend = get_bool(o, "metaspaceDecoderPrepend");
  c.pad_id = static_cast<int32_t>(get_int(o, "padId"));
  c.pad_type_id = static_cast<uint32_t>(get_int(o, "padTypeId"));
  c.pad_token = get_string(o, "padToken");
  return c;
}

}  // namespace embedrt
