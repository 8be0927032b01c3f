package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/sheet/sheettest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

// seedContacts registers, straight into the rig's database, the people of
// the example tree the contact-base tests look for.
func seedContacts(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ctx := t.Context()
	// 20:00 UTC is the next day in Sakhalin, where the export dates it.
	at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	person := func(ext, org string, role storage.Role, name, position, personal string, active bool) storage.Person {
		t.Helper()
		o, err := db.OrgByCode(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		reg := storage.Registration{Platform: storage.Telegram, ExternalID: ext, FullName: name, Position: position,
			WorkEmail: ext + "@work.example", PersonalEmail: personal, Locale: "ru", OrgID: o.ID, Role: role, At: at,
			Consents: []storage.Consent{{OrgID: o.ID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "ru", Accepted: true}}}
		if personal != "" {
			reg.Consents = append(reg.Consents, storage.Consent{OrgID: o.ID, Kind: storage.ConsentPersonalEmail, Version: "v1", Locale: "ru", Accepted: true})
		}
		if active {
			reg.InviteCode = "inv-" + ext
			if err := db.CreateInvite(ctx, storage.Invite{Code: reg.InviteCode, OrgID: o.ID, Role: role, CreatedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		p, _, err := db.Register(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	chair := person("1001", "edu", storage.RoleChair, "Иванова Мария", "Председатель обкома", "maria@home.example", true)
	if err := db.CreateLinkCode(ctx, storage.LinkCode{Code: "link-1001", PersonID: chair.ID, ExpiresAt: at.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UseLinkCode(ctx, "link-1001", storage.VK, "501001", at.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	info := person("1002", "edu-school-5", storage.RoleInfoworker, "Петров Пётр", "Учитель", "petrov@home.example", true)
	// A withdrawn consent whose address somehow stayed stored still keeps
	// the address out of the file.
	if err := db.RecordConsent(ctx, storage.Consent{PersonID: info.ID, Kind: storage.ConsentPersonalEmail, Version: "v1",
		Locale: "ru", Accepted: false, At: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	person("1003", "edu-korsakov-school-2", storage.RoleActivist, "Сидоров Иван", "=1+2", "", true)
	if err := db.MarkBlocked(ctx, storage.Telegram, "1003", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	person("1004", "edu-school-5", storage.RoleMember, "Member Hidden", "Учитель", "", true)
	person("1005", "edu-gymnasium-1", storage.RoleActivist, "Pending Person", "Учитель", "", false)
	person("1006", "fish", storage.RoleChair, "Рыбаков Sideways", "Председатель", "", true)
	person("1007", "union", storage.RoleChair, "Top Chair", "Председатель Союза", "", true)
	// The org's channels go into the file; the hot-line desk does not.
	for _, b := range []struct {
		platform  storage.Platform
		chat, org string
		title     string
		desk      bool
	}{
		{storage.VK, "2000000001", "edu", "Обком ВК", false},
		{storage.Telegram, "-1001", "edu", "Актив обкома", false},
		{storage.Telegram, "-1002", "edu", "Штаб горячей линии", true},
		{storage.Telegram, "-1003", "edu-school-5", "Школа 5", false},
	} {
		o, err := db.OrgByCode(ctx, b.org)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.BindChat(ctx, storage.ChatBinding{Platform: b.platform, ChatID: b.chat, OrgID: o.ID, Title: b.title,
			Desk: b.desk, BoundBy: chair.ID, BoundAt: at}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExportContacts(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, b)
			r.importExample()
			db := r.store()
			seedContacts(t, db)
			paths := map[string]string{}
			orgs, err := db.Orgs(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range orgs {
				paths[o.Code] = o.Path
			}

			recs := sheettest.ReadExcelCSV(t, r.mustRun("export", "contacts", "--org", "edu"))
			if !reflect.DeepEqual(recs[0], monitoring.ContactHeader) {
				t.Errorf("header %q", recs[0])
			}
			const (
				union = "Сахалинский областной союз организаций профсоюзов"
				edu   = "Областная организация профсоюза работников образования"
			)
			want := map[string][]string{
				"edu": {"edu", edu, union + " / " + edu, "chair", "Иванова Мария", "Председатель обкома",
					"1001@work.example", "maria@home.example", "yes", "yes", "2026-03-03",
					"telegram: Актив обкома; vk: Обком ВК"},
				"edu-school-5": {"edu-school-5", "ППО МАОУ СОШ № 5 г. Южно-Сахалинска", union + " / " + edu + " / ППО МАОУ СОШ № 5 г. Южно-Сахалинска",
					"infoworker", "Петров Пётр", "Учитель", "1002@work.example", "", "yes", "no", "2026-03-02", "telegram: Школа 5"},
				"edu-korsakov-school-2": {"edu-korsakov-school-2", "ППО МАОУ СОШ № 2 г. Корсакова",
					union + " / " + edu + " / Корсаковская территориальная организация профсоюза работников образования / ППО МАОУ СОШ № 2 г. Корсакова",
					"activist", "Сидоров Иван", "'=1+2", "1003@work.example", "", "blocked", "no", "2026-03-02", ""},
			}
			if len(recs) != 1+len(want) {
				t.Fatalf("%d rows, want a header and %d contacts:\n%q", len(recs), len(want), recs)
			}
			for i, rec := range recs[1:] {
				if w := want[rec[0]]; !reflect.DeepEqual(rec, w) {
					t.Errorf("row %d\n got %q\nwant %q", i+1, rec, w)
				}
				if i > 0 && paths[recs[i][0]] > paths[rec[0]] {
					t.Errorf("row %d (%s) comes after %s: not in tree order", i+1, rec[0], recs[i][0])
				}
			}
			csvText := strings.Join(slices.Concat(recs...), "\n")
			for _, absent := range []string{"Member Hidden", "Pending Person", "Рыбаков", "Top Chair", "1004", "petrov@home", "Штаб"} {
				if strings.Contains(csvText, absent) {
					t.Errorf("the edu export shows %q", absent)
				}
			}

			// The workbook holds the same rows, a formula-like text as typed.
			out := filepath.Join(t.TempDir(), "edu.xlsx")
			if msg := r.mustRun("export", "contacts", "--org", "edu", "--out", out); !strings.Contains(msg, "wrote 3 contacts of edu") {
				t.Errorf("export said %q", msg)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("export file mode %v (%v), want 0600: it holds personal data", fi.Mode(), err)
			}
			cells := sheettest.ReadXLSX(t, data)
			for _, rec := range recs {
				if rec[0] == "edu-korsakov-school-2" {
					rec[5] = "=1+2"
				}
			}
			if !reflect.DeepEqual(cells, recs) {
				t.Errorf("workbook cells\n got %q\nwant %q", cells, recs)
			}
			// An explicit format wins over the extension.
			csvOut := filepath.Join(t.TempDir(), "edu.xlsx")
			r.mustRun("export", "contacts", "--org", "edu", "--format", "csv", "--out", csvOut)
			if b, err := os.ReadFile(csvOut); err != nil || !bytes.HasPrefix(b, []byte("\ufefforg_code,")) {
				t.Errorf("--format csv --out x.xlsx wrote %q (%v)", b[:min(len(b), 20)], err)
			}

			// Nothing sideways, everything below.
			fish := sheettest.ReadExcelCSV(t, r.mustRun("export", "contacts", "--org", "fish"))
			if len(fish) != 2 || fish[1][4] != "Рыбаков Sideways" {
				t.Errorf("fish export %q, want its chair only", fish)
			}
			all := sheettest.ReadExcelCSV(t, r.mustRun("export", "contacts", "--org", "union"))
			var names []string
			for _, rec := range all[1:] {
				names = append(names, rec[4])
			}
			if len(all) != 6 || all[1][4] != "Top Chair" || slices.Contains(names, "Member Hidden") || slices.Contains(names, "Pending Person") {
				t.Errorf("union export names %q", names)
			}
			if empty := sheettest.ReadExcelCSV(t, r.mustRun("export", "contacts", "--org", "health")); len(empty) != 1 {
				t.Errorf("an org without activists exports %q, want the header only", empty)
			}
		})
	}
}

func TestExportContactsUsage(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite)
	r.importExample()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, exitUsage, "export contacts --org CODE"},
		{[]string{"export", "people", "--org", "edu"}, exitUsage, "export contacts --org CODE"},
		{[]string{"export", "contacts"}, exitUsage, "needs --org"},
		{[]string{"export", "contacts", "--org", "edu", "extra"}, exitUsage, "needs --org"},
		{[]string{"export", "contacts", "--org", "no-such-org"}, exitUsage, `"no-such-org"`},
		{[]string{"export", "contacts", "--org", "edu", "--format", "pdf"}, exitUsage, `--format "pdf"`},
		{[]string{"export", "contacts", "--org", "edu", "--format", "xlsx"}, exitUsage, "needs --out"},
		{[]string{"export", "contacts", "--org", "edu", "--out", filepath.Join(dir, "missing", "x.csv")}, exitFail, "missing"},
	} {
		out, errOut, code := r.run(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("unionhub %s: exit %d, stderr %q; want %d and %q (stdout %q)", strings.Join(tt.args, " "), code, errOut, tt.code, tt.want, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed exports left %d files behind", len(entries))
	}
}
