#include "proxy/ws/reassembly_budget.h"

namespace relaytap::proxy::ws {

ReassemblyBudget& ReassemblyBudget::Process() {
  static ReassemblyBudget* const budget = new ReassemblyBudget(kDefaultProcessBytes);
  return *budget;
}

}  // namespace relaytap::proxy::ws
