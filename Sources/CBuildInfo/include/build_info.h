#ifndef ZONEWARDEN_BUILD_INFO_H
#define ZONEWARDEN_BUILD_INFO_H
// What `zonewarden --version` says about the build: the git commit and the
// build date, written by scripts/setup and scripts/package into
// generated_build_info.h (not in git) before they build; "unknown" otherwise.
const char *zw_build_commit(void);
const char *zw_build_date(void);
#endif
