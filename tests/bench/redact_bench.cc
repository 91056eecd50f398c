// Throughput of RedactJsonText on typical Realtime frames. Run a Release build:
//   build/e-rel/tests/redact/redact_bench

#include <string>

#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"
#include "redact/fingerprint.h"
#include "redact/json_redactor.h"
#include "redact/policy.h"

namespace relaytap::redact {
namespace {

std::string Base64Like(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s(n, 'A');
  uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = kAlphabet[(x >> 16) & 63];
  }
  return s;
}

std::string AudioDelta() {
  return nlohmann::json{{"type", "response.output_audio.delta"},
                        {"event_id", "event_C9G8pjSJCfRNEhMEnYAVy"},
                        {"response_id", "resp_C9G8pqbTEdp6Jj4Ow1Ud0"},
                        {"item_id", "item_C9G8pGVKYnaZu8PH5YQ9O"},
                        {"output_index", 0},
                        {"content_index", 0},
                        {"delta", Base64Like(8000)}}
      .dump();
}

std::string AudioAppend() {
  return nlohmann::json{{"type", "input_audio_buffer.append"},
                        {"event_id", "evt_abc123"},
                        {"audio", Base64Like(300 * 1024)}}
      .dump();
}

std::string ResponseDone() {
  nlohmann::json usage = {
      {"total_tokens", 1385},
      {"input_tokens", 1133},
      {"output_tokens", 252},
      {"input_token_details",
       {{"text_tokens", 1011},
        {"audio_tokens", 122},
        {"image_tokens", 0},
        {"cached_tokens", 960},
        {"cached_tokens_details", {{"text_tokens", 960}, {"audio_tokens", 0}}}}},
      {"output_token_details", {{"text_tokens", 60}, {"audio_tokens", 192}}}};
  std::string transcript;
  while (transcript.size() < 900) transcript += "The weather in Paris today is mild and sunny. ";
  nlohmann::json item = {{"id", "item_C9G8pGVKYnaZu8PH5YQ9O"},
                         {"type", "message"},
                         {"status", "completed"},
                         {"role", "assistant"},
                         {"object", "realtime.item"},
                         {"content", {{{"type", "output_audio"}, {"transcript", transcript}}}}};
  nlohmann::json call = {{"id", "item_C9G8q1"},
                         {"type", "function_call"},
                         {"status", "completed"},
                         {"name", "get_weather"},
                         {"call_id", "call_Hx2YlBZ8aXQ0"},
                         {"arguments", R"({"city":"Paris","unit":"celsius"})"}};
  return nlohmann::json{
      {"type", "response.done"},
      {"event_id", "event_C9G8qMjBx4Ppx1Ttb8LmK"},
      {"response",
       {{"object", "realtime.response"},
        {"id", "resp_C9G8pqbTEdp6Jj4Ow1Ud0"},
        {"status", "completed"},
        {"status_details", nullptr},
        {"output", {item, call}},
        {"conversation_id", "conv_C9G8mmBkLhQJwCon3hoJN"},
        {"output_modalities", {"audio"}},
        {"max_output_tokens", "inf"},
        {"audio",
         {{"output", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}, {"voice", "marin"}}}}},
        {"usage", usage},
        {"metadata", nullptr}}}}
      .dump();
}

void Run(benchmark::State& state, const std::string& text) {
  static const Policy policy = *Policy::Default();
  static const Fingerprinter fp(std::string("bench-key-0123456789abcdef"));
  for (auto _ : state) {
    std::string out = RedactJsonText(text, policy, fp);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.counters["frame_bytes"] = static_cast<double>(text.size());
}

void BM_OutputAudioDelta8K(benchmark::State& state) { Run(state, AudioDelta()); }
void BM_InputAudioAppend300K(benchmark::State& state) { Run(state, AudioAppend()); }
void BM_ResponseDone2K(benchmark::State& state) { Run(state, ResponseDone()); }

BENCHMARK(BM_OutputAudioDelta8K);
BENCHMARK(BM_InputAudioAppend300K);
BENCHMARK(BM_ResponseDone2K);

}  // namespace
}  // namespace relaytap::redact

BENCHMARK_MAIN();
