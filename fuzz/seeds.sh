#!/bin/sh
# The starting corpora. `import` (fuzz/fuzz_targets/import.rs): real decrypted bundles, signed,
# format 2 and format 1 (fuzz/seeds/import, made by Kuager from test data). `outside`
# (fuzz/fuzz_targets/outside.rs): real age files, binary and armored, to the fuzzing key and to
# others, made with Go age. Idempotent.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/import
for f in seeds/import/*; do
    [ -e "corpus/import/seed-$(basename "$f")" ] || cp "$f" "corpus/import/seed-$(basename "$f")"
done
# `recording` (fuzz/fuzz_targets/recording.rs): real Ogg Opus files from espeak-ng and opusenc,
# one cut short inside a page.
rec=corpus/recording
if [ -z "$(ls -A "$rec" 2>/dev/null)" ]; then
    mkdir -p "$rec"
    w=$(mktemp -d)
    espeak-ng -w "$w/s.wav" "One, two, three." 2>/dev/null
    opusenc --quiet --bitrate 24 "$w/s.wav" "$rec/speech.opus"
    opusenc --quiet --bitrate 64 --downmix-mono "$w/s.wav" "$rec/speech-64k.opus"
    head -c 3000 "$rec/speech.opus" >"$rec/cut.opus"
    rm -rf "$w"
fi
# `video` (fuzz/fuzz_targets/video.rs): real MP4 and MOV files from ffmpeg (H.264 with B-frames
# and AAC; index last, index first, QuickTime), and WebM and Matroska (VP9 and Opus, VP8 and
# Vorbis, one written to a pipe as a recording is: sizes unknown), small.
vid=corpus/video
if [ ! -e "$vid/piped.webm" ]; then
    mkdir -p "$vid"
    src="-hide_banner -loglevel error -y -f lavfi -i testsrc=duration=1:size=64x48:rate=10 \
        -f lavfi -i sine=duration=1 -pix_fmt yuv420p -shortest"
    ff="ffmpeg $src -c:v libx264 -bf 2 -g 5 -c:a aac"
    $ff "$vid/index-last.mp4"
    $ff -movflags +faststart "$vid/index-first.mp4"
    $ff "$vid/quicktime.mov"
    ffmpeg $src -c:v libvpx-vp9 -g 5 -c:a libopus "$vid/vp9-opus.webm"
    ffmpeg $src -c:v libvpx -g 5 -c:a libvorbis "$vid/vp8-vorbis.mkv"
    ffmpeg $src -c:v libvpx-vp9 -g 5 -c:a libopus -f webm - >"$vid/piped.webm"
fi
out=corpus/outside
[ -n "$(ls -A "$out" 2>/dev/null)" ] && exit 0
mkdir -p "$out"
key=age1y39t3ylpfe34l4grts5l3ekp6f8ejavxkjwj7aumqs0c9fmd7evsd3t99c
other=$(age-keygen 2>/dev/null | grep -o 'age1[0-9a-z]*')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/kuager-bundle"
printf '{"format":"kuager-bundle"}' >"$work/kuager-bundle/manifest.json"
tar -C "$work" -cf "$work/bundle.tar" kuager-bundle
age -r "$key" -o "$out/binary" "$work/bundle.tar"
age -a -r "$key" -o "$out/armored" "$work/bundle.tar"
age -r "$other" -r "$key" -o "$out/two-recipients" "$work/bundle.tar"
age -r "$other" -o "$out/not-addressed" "$work/bundle.tar"
head -c 200000 /dev/zero | age -r "$key" -o "$out/several-chunks"
