#ifndef ZONEWARDEN_CRELP_SHIM_H
#define ZONEWARDEN_CRELP_SHIM_H
// librelp from the system (apt: librelp-dev): RELP, rsyslog's reliable event
// logging protocol, with application-level acknowledgements.
#include <stddef.h>
#include <sys/socket.h>
#include <librelp.h>

/// librelp calls its debug printer unconditionally; NULL installs its no-op one
/// (the printer's variadic type cannot be written in Swift).
static inline relpRetVal zw_relp_engine_quiet(relpEngine_t *engine) {
    return relpEngineSetDbgprint(engine, NULL);
}
#endif
