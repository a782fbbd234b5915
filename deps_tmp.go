package parity_tmp
import (
 _ "github.com/google/go-cmp/cmp"
 _ "github.com/tidwall/gjson"
 _ "github.com/rs/zerolog"
 _ "github.com/olekukonko/tablewriter"
 _ "go.yaml.in/yaml/v3"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/fsnotify/fsnotify"
 _ "github.com/HdrHistogram/hdrhistogram-go"
 _ "github.com/andybalholm/brotli"
 _ "golang.org/x/term"
 _ "golang.org/x/net/http2"
)

