#include "build_info.h"

#if __has_include("generated_build_info.h")
#include "generated_build_info.h"
#endif
#ifndef ZW_BUILD_COMMIT
#define ZW_BUILD_COMMIT "unknown"
#endif
#ifndef ZW_BUILD_DATE
#define ZW_BUILD_DATE "unknown"
#endif

const char *zw_build_commit(void) { return ZW_BUILD_COMMIT; }
const char *zw_build_date(void) { return ZW_BUILD_DATE; }
