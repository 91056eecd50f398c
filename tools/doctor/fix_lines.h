#pragma once
// What a runtime's verdict means in words, and the lines that fix it, from the shared trust
// table (proxy/tls/trust_table.h, the README's "Trusting the CA, per runtime").

#include <string>
#include <vector>

#include "tools/doctor/clients.h"
#include "tools/doctor/doctor.h"

namespace relaytap::tools::doctor {

std::string DescribeVerdict(const RuntimeResult& res, const DoctorReport& report);

// Shell lines for the app's environment; comments (starting with #) where no line can do it.
// Empty when the runtime passed.
std::vector<std::string> FixLines(const ClientCheck& check, const RuntimeResult& res,
                                  const DoctorReport& report);

// `s` as one shell word: unchanged when it has nothing special, else single-quoted.
std::string ShellWord(std::string_view s);

}  // namespace relaytap::tools::doctor
