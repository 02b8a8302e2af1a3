package links

import "encoding/json"

// appleAssociation is the apple-app-site-association file: the app IOSAppID
// opens the /join/ links (Apple's applinks format, "components" form,
// iOS 13 and later). nil when IOSAppID is unset.
func appleAssociation(cfg Config) []byte {
	if cfg.IOSAppID == "" {
		return nil
	}
	type detail struct {
		AppIDs     []string            `json:"appIDs"`
		Components []map[string]string `json:"components"`
	}
	doc := map[string]any{
		"applinks": map[string]any{
			"details": []detail{{
				AppIDs:     []string{cfg.IOSAppID},
				Components: []map[string]string{{"/": "/join/*", "comment": "invite links"}},
			}},
		},
	}
	return mustJSON(doc)
}

// assetLinks is the Digital Asset Links file: the Android app
// AndroidPackage, signed with one of AndroidCertSHA256, handles this
// site's links. nil unless both are set.
func assetLinks(cfg Config) []byte {
	if cfg.AndroidPackage == "" || len(cfg.AndroidCertSHA256) == 0 {
		return nil
	}
	type target struct {
		Namespace    string   `json:"namespace"`
		PackageName  string   `json:"package_name"`
		Fingerprints []string `json:"sha256_cert_fingerprints"`
	}
	type statement struct {
		Relation []string `json:"relation"`
		Target   target   `json:"target"`
	}
	return mustJSON([]statement{{
		Relation: []string{"delegate_permission/common.handle_all_urls"},
		Target:   target{Namespace: "android_app", PackageName: cfg.AndroidPackage, Fingerprints: cfg.AndroidCertSHA256},
	}})
}

// mustJSON encodes values built from strings only, which cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
