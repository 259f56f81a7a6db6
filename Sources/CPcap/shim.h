#ifndef ZONEWARDEN_CPCAP_SHIM_H
#define ZONEWARDEN_CPCAP_SHIM_H
// The only C header the project includes: libpcap from the system (apt: libpcap-dev).
#include <pcap/pcap.h>
#include <stdio.h>

// Standard input as a FILE for pcap_fopen_offline (Swift sees `stdin` as
// shared mutable state; reading the pointer once here is safe).
static inline FILE *zw_standard_input(void) { return stdin; }
#endif
