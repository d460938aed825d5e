/* import_cmd.h — `dtrain import tfjs MANIFEST --model MODEL.ini --out OUT.h5`. */
#ifndef DT_CLI_IMPORT_H
#define DT_CLI_IMPORT_H

/* Convert the manifest's weights into a checkpoint of the model (see
 * import_cmd.c); prints one line, or one "dtrain: error:" line. Returns the
 * exit code: 0, or 2. */
int dt_cli_import_tfjs(const char *manifest, const char *model_path, const char *out);

#endif
