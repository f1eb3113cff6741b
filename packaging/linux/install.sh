#!/bin/sh
# Install the Restoration Editor for the current user; no root needed.
#
#   ./install.sh              copy this folder to ~/.local/share/restoration-editor, add
#                             ~/.local/bin/restoration-editor, the menu entry, the icon and
#                             the photo types it opens ("Open with", double-click)
#   ./install.sh --uninstall  remove all of that again
#
# XDG_DATA_HOME (default ~/.local/share) and BIN_DIR (default ~/.local/bin) choose where.
set -eu

name=restoration-editor
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=${BIN_DIR:-$HOME/.local/bin}
app=$data/$name
desktop=$data/applications/$name.desktop
mime=$data/mime/packages/$name.xml
sizes="16 32 48 64 128 256 512"

# Caches the desktop reads; each tool is optional (not every distribution has it) and a
# stale cache only delays the menu entry until the next log-in.
refresh() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data/applications" || true
    fi
    if command -v update-mime-database >/dev/null 2>&1; then
        update-mime-database "$data/mime" >/dev/null 2>&1 || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data/icons/hicolor" >/dev/null 2>&1 || true
    fi
}

uninstall() {
    rm -f "$desktop" "$mime"
    for size in $sizes; do
        rm -f "$data/icons/hicolor/${size}x${size}/apps/$name.png"
    done
    # Only our own link: never a different program of the same name.
    if [ -L "$bin/$name" ] && [ "$(readlink "$bin/$name")" = "$app/$name" ]; then
        rm -f "$bin/$name"
    fi
    rm -rf "$app"
    refresh
    echo "Removed the Restoration Editor."
}

install() {
    if [ ! -x "$here/$name" ] || [ ! -d "$here/_internal" ]; then
        echo "install.sh: run me from the unpacked Restoration Editor folder" >&2
        exit 1
    fi
    mkdir -p "$data/applications" "$data/mime/packages" "$bin"
    if [ "$here" != "$app" ]; then
        # Copied beside the old version first, so a failed copy leaves it working.
        rm -rf "$app.new"
        cp -R "$here" "$app.new"
        rm -rf "$app"
        mv "$app.new" "$app"
    fi
    ln -sfn "$app/$name" "$bin/$name"
    # Full paths: ~/.local/bin is not on every desktop session's PATH.
    sed -e "s|^TryExec=.*|TryExec=$app/$name|" \
        -e "s|^Exec=.*|Exec=\"$app/$name\" %F|" \
        "$app/$name.desktop" > "$desktop"
    cp "$app/$name-mime.xml" "$mime"
    for size in $sizes; do
        icon_dir=$data/icons/hicolor/${size}x${size}/apps
        mkdir -p "$icon_dir"
        cp "$app/_internal/resources/icons/$name-$size.png" "$icon_dir/$name.png"
    done
    refresh
    echo "Installed the Restoration Editor in $app"
    echo "Start it from the applications menu, or run: $bin/$name [PHOTO...]"
}

case "${1:-}" in
    "") install ;;
    --uninstall) uninstall ;;
    *)
        echo "usage: ./install.sh [--uninstall]" >&2
        exit 2
        ;;
esac
