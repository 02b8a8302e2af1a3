package replica

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/benbjohnson/litestream/s3"
)

// ParseURL checks a replica URL: s3://BUCKET[/PATH] or file:///DIR.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("%q names no bucket (s3://BUCKET/PATH)", raw)
		}
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("%q is not an absolute file URL (file:///DIR)", raw)
		}
	default:
		return nil, fmt.Errorf("%q is neither s3://BUCKET/PATH nor file:///DIR", raw)
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, errors.New("credentials and options go in HEARTH_S3_*, not in the URL")
	}
	return u, nil
}

// client builds the Litestream replica client for cfg.URL. The S3 client is
// configured field by field rather than from Litestream's URL parser, which
// reads AWS_* and LITESTREAM_* variables behind Hearth's back.
func (cfg Config) client() (litestream.ReplicaClient, error) {
	u, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return file.NewReplicaClient(u.Path), nil
	}
	c := s3.NewReplicaClient()
	c.Bucket = u.Host
	c.Path = strings.Trim(u.Path, "/")
	c.Region = cmp.Or(cfg.S3.Region, s3.DefaultRegion)
	c.Endpoint = cfg.S3.Endpoint
	c.ForcePathStyle = cfg.S3.ForcePathStyle
	c.AccessKeyID = cfg.S3.AccessKey
	c.SecretAccessKey = cfg.S3.Secret
	return c, nil
}

// watchedClient is client() with every request abandoned once it has moved
// no byte for cfg.Timeout (DefaultTimeout when zero): a hung S3 fails the
// request instead of holding it for a day.
func (cfg Config) watchedClient() (litestream.ReplicaClient, error) {
	c, err := cfg.client()
	if err != nil {
		return nil, err
	}
	if _, ok := c.(*file.ReplicaClient); ok {
		return c, nil
	}
	return timeoutClient{ReplicaClient: c, timeout: cmp.Or(cfg.Timeout, DefaultTimeout)}, nil
}
