// The second floor of scripts/bench: read a capture with libpcap and touch
// each packet's first and middle byte, nothing else. The FILE gets the same
// 1 MiB stdio buffer that `zonewarden analyze` gives it (tcpdump uses the
// default of 4 KiB), so that the table shows how much of the gap to tcpdump
// is that buffer and how much the sensor's own work.
//
//     gcc -O2 -o pcap-read scripts/pcap-read.c -lpcap && ./pcap-read FILE
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: pcap-read FILE\n"); return 2; }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 2; }
    static char buffer[1 << 20];
    setvbuf(file, buffer, _IOFBF, sizeof buffer);
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_fopen_offline(file, errbuf);
    if (!pcap) { fprintf(stderr, "%s: %s\n", argv[1], errbuf); return 2; }
    struct pcap_pkthdr *header;
    const u_char *data;
    uint64_t packets = 0, sum = 0;
    int status;
    while ((status = pcap_next_ex(pcap, &header, &data)) == 1) {
        packets++;
        if (header->caplen > 0) sum += data[0] + data[header->caplen / 2];
    }
    if (status == PCAP_ERROR) { fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(pcap)); return 1; }
    printf("%llu packets (checksum %llu)\n", (unsigned long long)packets, (unsigned long long)sum);
    pcap_close(pcap);
    return 0;
}
