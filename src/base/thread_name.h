// Names the calling thread for ps, top -H, perf and gdb (Linux keeps the
// first 15 bytes). A name is only a label: failures are ignored.
#pragma once

#include <string_view>

namespace aspen {

void SetThreadName(std::string_view name);

}  // namespace aspen
