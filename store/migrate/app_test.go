package migrate_test

import (
	"testing"

	"github.com/ubgo/ubgo/store/storetest"
)

// TestSampleApp migrates an empty database to the sample application (UB, UBA and the TSK
// model) and checks the result through the database's own catalogue.
func TestSampleApp(t *testing.T) {
	dom := loadApp(t, "../../ubconfig.json")
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			conn := openConn(t, d, "en", "uk")
			p := plan(t, conn, dom)
			if len(p.Destructive()) > 0 {
				t.Errorf("a plan for an empty database has destructive statements:\n%s", whys(p.Destructive()))
			}
			apply(t, conn, p, false)
			mustBeEmpty(t, plan(t, conn, dom))

			checks := []struct {
				what     string
				got      map[string]bool
				want     []string
				unwanted []string
			}{
				{"tsk_task columns", columnSet(t, conn, "tsk_task"),
					[]string{"id", "project", "title", "status", "done", "details", "mi_owner", "mi_deletedate", "mi_deleteuser"},
					[]string{"tags", "statusorder"}}, // a Many attribute and a calculated one have no column
				{"tsk_project columns", columnSet(t, conn, "tsk_project"), []string{"name", "name_uk"}, []string{"name_en"}},
				{"tsk_task_tag columns", columnSet(t, conn, "tsk_task_tag"), []string{"sourceid", "destid"}, []string{"id"}},
				{"tsk_project indexes", indexSet(t, conn, "tsk_project"), []string{"uidx_tskprj_code", "idx_tskprj_owner"}, nil},
				{"tsk_task indexes", indexSet(t, conn, "tsk_task"), []string{"idx_tsktask_project", "idx_tsktask_mi_owner"}, nil},
				{"tsk_task_tag indexes", indexSet(t, conn, "tsk_task_tag"), []string{"idx_tsk_task_tag_destid"}, []string{"idx_tsk_task_tag_sourceid"}},
				{"tsk_task foreign keys", fkSet(t, conn, "tsk_task"), []string{"project>tsk_project", "mi_owner>uba_user"}, nil},
				{"tsk_task_tag foreign keys", fkSet(t, conn, "tsk_task_tag"), []string{"sourceid>tsk_task", "destid>tsk_tag"}, nil},
				{"uba_user foreign keys", fkSet(t, conn, "uba_user"), []string{"id>uba_subject"}, nil}, // unity
			}
			for _, c := range checks {
				for _, w := range c.want {
					if !c.got[w] {
						t.Errorf("%s: %s is missing (have %v)", c.what, w, c.got)
					}
				}
				for _, u := range c.unwanted {
					if c.got[u] {
						t.Errorf("%s: %s should not exist", c.what, u)
					}
				}
			}
			// The link table's primary key is the pair.
			mustExec(t, conn.Write,
				`INSERT INTO uba_subject (ID, code, name, sType, mi_unityEntity) VALUES (10, 'admin', 'admin', 'U', 'uba_user')`,
				`INSERT INTO uba_user (ID, name, mi_owner, mi_createUser, mi_modifyUser) VALUES (10, 'admin', 10, 10, 10)`,
				`INSERT INTO tsk_project (ID, code, name, mi_owner, mi_createUser, mi_modifyUser) VALUES (1, 'P', 'P', 10, 10, 10)`,
				`INSERT INTO tsk_task (ID, project, title, mi_owner, mi_createUser, mi_modifyUser) VALUES (2, 1, 'T', 10, 10, 10)`,
				`INSERT INTO tsk_tag (ID, code, name, mi_owner, mi_createUser, mi_modifyUser) VALUES (3, 'X', 'X', 10, 10, 10)`,
				`INSERT INTO tsk_task_tag (sourceID, destID) VALUES (2, 3)`,
			)
			if _, err := conn.Write.Exec(`INSERT INTO tsk_task_tag (sourceID, destID) VALUES (2, 3)`); err == nil {
				t.Error("a duplicate link row was accepted: the primary key of tsk_task_tag is missing")
			}
			if got := queryStrings(t, conn.Write, `SELECT status, CAST(done AS VARCHAR(1)), CAST(priority AS VARCHAR(2)) FROM tsk_task`); got[0] != "NEW|0|3" {
				t.Errorf("defaults of tsk_task: %v, want NEW|0|3", got)
			}
		})
	}
}
