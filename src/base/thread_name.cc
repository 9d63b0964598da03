#include "base/thread_name.h"

#include <pthread.h>

#include <string>

namespace aspen {

void SetThreadName(std::string_view name) {
  // The kernel's limit is 16 bytes with the terminating NUL.
  const std::string cut(name.substr(0, 15));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace aspen
