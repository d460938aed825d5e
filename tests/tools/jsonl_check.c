/* jsonl_check FILE: exit 0 when every line of FILE is one JSON value (cJSON
 * reads it whole), else print the first bad line's number and exit 1.
 * For tests of outputs that must stay valid JSON whatever the names in them. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: jsonl_check FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int ln = 0, bad = 0;
    while (!bad && (n = getline(&line, &cap, f)) >= 0) {
        ln++;
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithOpts(line, &end, 0);
        /* the value must be the whole line */
        if (!j || end[strspn(end, " \t\r\n")]) bad = ln;
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    if (bad) fprintf(stderr, "%s:%d: not one JSON value\n", argv[1], bad);
    else if (!ln) fprintf(stderr, "%s: empty\n", argv[1]);
    return bad || !ln;
}
