/* vision_cmds.h — the picture commands' arguments: detect, faces, verify,
 * identify (faces_cmd.c), import tfjs (import_cmd.c) and make-scenes
 * (scenes_cmd.c). */
#ifndef DT_CLI_VISION_CMDS_H
#define DT_CLI_VISION_CMDS_H

/* The usage text of one of these commands, or NULL for any other. */
const char *dt_cli_vision_usage(const char *cmd);
/* Parse argv and run cmd on rank 0 (the others return 0); the exit code. */
int dt_cli_vision(int argc, char **argv, int rank, const char *cmd);

#endif
