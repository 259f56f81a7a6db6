#ifndef ZONEWARDEN_CPCAP_SHIM_H
#define ZONEWARDEN_CPCAP_SHIM_H
// The only C header the project includes: libpcap from the system (apt: libpcap-dev).
#include <pcap/pcap.h>
#endif
