/* lpt_cmd_demo.c: placeholder while being written. */
#include "lpt_cli.h"

int lpt_cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return LPT_EXIT_ERROR;
}
