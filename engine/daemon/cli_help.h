/* cli_help.h - the text of verdictd --help. */
#ifndef VD_CLI_HELP_H
#define VD_CLI_HELP_H

#include <stdio.h>

/* Writes the usage text, every option and the exit codes to out. */
void vd_cli_print_help(FILE *out);

#endif
