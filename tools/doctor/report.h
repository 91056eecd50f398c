#pragma once
// `relaytap doctor`'s output: a checklist per runtime to paste into a ticket, or JSON.

#include <nlohmann/json.hpp>
#include <string>

#include "tools/doctor/doctor.h"

namespace relaytap::tools::doctor {

std::string FormatDoctorText(const DoctorReport& report);
nlohmann::ordered_json DoctorJson(const DoctorReport& report);

}  // namespace relaytap::tools::doctor
