#!/usr/bin/env bash
# cmake --install puts dtrain, libdtrain, its headers and dtrain.pc in a
# prefix; a C program builds against it with pkg-config and trains XOR.
source "$(dirname "$0")/../lib.sh"
build=$(dirname "$DTRAIN")
cmake --install "$build" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 || fail "cmake --install: $(cat "$TMP/install.log")"
[ -x "$TMP/prefix/bin/dtrain" ] || fail "dtrain not installed"
lib=$(find "$TMP/prefix" -name libdtrain.a | head -1)
[ -n "$lib" ] || fail "libdtrain.a not installed"
pc=$(dirname "$(find "$TMP/prefix" -name dtrain.pc | head -1)")
[ -f "$TMP/prefix/include/dtrain/nn/net.h" ] || fail "headers not installed"
flags=$(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs dtrain) || fail "pkg-config dtrain failed"
# a sanitizer build's library needs the sanitizer runtime in the program too
case ${DTRAIN_SANITIZE:-0} in
address) flags="$flags -fsanitize=address,undefined" ;;
thread) flags="$flags -fsanitize=thread" ;;
esac
# shellcheck disable=SC2086
cc -std=gnu11 -o "$TMP/xor" tests/example/xor.c $flags || fail "the example does not build against the installed library"
out=$("$TMP/xor") || fail "the example did not learn XOR: $out"
ok "installed to a prefix, built with pkg-config: $out"
