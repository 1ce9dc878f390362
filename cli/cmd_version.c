#include <stdio.h>

#include "cli.h"
#include "nm_frame.h"

int nm_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("newsmill %s (protocol %d)\n", NM_VERSION, NM_PROTOCOL_VERSION);
    return NM_EXIT_OK;
}
