/* newsmill keygen: writes a CURVE key pair (PATH, mode 0600, and PATH.pub)
 * and prints the public key. */
#include <stdio.h>

#include "cli.h"
#include "nm_curve.h"
#include "nm_fs.h"
#include "nm_opts.h"

int nm_cmd_keygen(int argc, char **argv)
{
    const char *out = "./var/keys/newsmill.key";
    bool force = false, quiet = false;
    const nm_opt opts[] = {
        {"out", 'o', NM_OPT_STRING, &out, "PATH",
         "secret key pair file to write (mode 0600); the public key goes to PATH.pub", 0, 0},
        {"force", 0, NM_OPT_FLAG, &force, NULL, "overwrite existing key files", 0, 0},
        {"quiet", 'q', NM_OPT_FLAG, &quiet, NULL, "print only the public key", 0, 0},
    };
    const size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    int rc = nm_opts_parse(opts, n_opts, argc, argv, &first, &err);
    if (rc == NM_OPTS_HELP) {
        nm_opts_usage(stdout, "newsmill keygen", "[--out PATH] [--force]",
                      "Writes a new CURVE key pair for a newsmill server or client: PATH holds\n"
                      "both keys (keep it private), PATH.pub the public key (give it to the\n"
                      "other side: clients need the server's .pub for --curve-server-key,\n"
                      "servers list client .pub keys in their --curve-allow file).\n"
                      "Prints the public key.",
                      opts, n_opts);
        return NM_EXIT_OK;
    }
    if (rc != 0 || first != argc) {
        fprintf(stderr, "newsmill keygen: %s\n", rc ? err.msg : "takes no arguments");
        return NM_EXIT_USAGE;
    }
    nm_curve_keypair kp;
    if (nm_curve_keypair_new(&kp, &err) || nm_fs_mkdir_parents(out, 0700, &err) ||
        nm_curve_keypair_save(&kp, out, force, &err)) {
        fprintf(stderr, "newsmill keygen: %s\n", err.msg);
        return NM_EXIT_FAILURE;
    }
    if (quiet)
        printf("%s\n", kp.public_key);
    else
        printf("public key: %s\nwrote %s (secret, mode 0600) and %s.pub\n", kp.public_key, out, out);
    return NM_EXIT_OK;
}
