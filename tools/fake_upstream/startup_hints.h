#pragma once
// The lines `relaytap fake-upstream` prints at start: its URLs, ready-to-paste commands that point
// an app or `relaytap proxy` at it, and the faults in force. Pure.

#include <cstdint>
#include <string>

#include "tools/fake_upstream/fault_model.h"

namespace relaytap::tools::fake_upstream {

struct HintInput {
  std::string host = "127.0.0.1";  // the listen address as a URL host ([v6] bracketed)
  uint16_t port = 0;
  bool tls = false;
  std::string tls_ca;  // the CA that issued --tls-cert, if given (else curl -k)
  std::string azure_host = "contoso.openai.azure.com";  // the name the app keeps using
  // Set when the certificate names `azure_host`, not the listen address (--tls: a leaf from
  // relaytap's CA): curl lines then reach https://azure_host through curl's --connect-to.
  bool leaf_for_azure_host = false;
};

// Everything after the first "listening on" line; lines end in '\n'.
std::string StartupHints(const HintInput& in);

// "response_failed 0.8%, reset 2%; window 600-900 s: response_failed 15% (every 3600 s);
//  deployment gpt-x: upgrade_5xx 100%; latency 0 ms; seed 42"
std::string DescribeFaults(const FaultProfile& profile, uint64_t seed);

// "response_failed 3, reset 1" (faults injected so far), or "none".
std::string DescribeCounts(const FaultModel& model);

}  // namespace relaytap::tools::fake_upstream
