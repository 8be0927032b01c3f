package hotline_test

import (
	"strings"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func TestSupporterAsksOnlyAboutJoining(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	supporter := b.person("school", storage.RoleSupporter)
	member := b.person("school", storage.RoleMember)
	elsewhere := b.person("clinic", storage.RoleSupporter)
	q := func(by access.Actor, org, topic string) error {
		_, err := b.svc.Ask(b.ctx, by, hotline.Question{OrgID: b.org[org].ID, Topic: topic, Message: hotline.Message{Text: "How do I join?"}})
		return err
	}
	tests := []struct {
		name  string
		by    access.Actor
		org   string
		topic string
		want  error
	}{
		{"a supporter about wages", supporter, "school", "wages", hotline.ErrUnknownTopic},
		{"a member about joining", member, "school", hotline.TopicJoining, hotline.ErrUnknownTopic},
		{"a supporter from an org they do not support", elsewhere, "school", hotline.TopicJoining, access.ErrForbidden},
		{"a supporter about joining", supporter, "school", hotline.TopicJoining, nil},
	}
	for _, tt := range tests {
		is(t, tt.name, q(tt.by, tt.org, tt.topic), tt.want)
	}
	b.heard.take()
	asked := b.ask(supporter, hotline.TopicJoining)
	if !asked.Answerable || asked.Level.ID != b.org["school"].ID || asked.Ticket.Topic != hotline.TopicJoining {
		t.Fatalf("asked %+v, want it answerable at the school", asked)
	}
	if es := b.heard.take(); len(es) != 1 || !sameIDs(es[0].to, chair.PersonID) {
		t.Errorf("told %+v, want the chair", es)
	}
}

func TestJoiningTopicIsAlwaysThereAndNeverListed(t *testing.T) {
	t.Parallel()
	s, err := hotline.ParseSettings("x.yaml", strings.NewReader("topics:\n  - id: wages\nhand_up:\n  - {topic: joining, from: primary}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Topic(hotline.TopicJoining); !ok || !s.HandsUp(storage.LevelPrimary, hotline.TopicJoining) {
		t.Errorf("joining: not there or not handed up in %+v", s)
	}
	for _, topic := range s.Topics {
		if topic.ID == hotline.TopicJoining {
			t.Errorf("joining listed among the members' topics: %+v", s.Topics)
		}
	}
	if _, err := hotline.ParseSettings("y.yaml", strings.NewReader("topics:\n  - id: joining\n")); err == nil {
		t.Error("a file listing joining was taken")
	}
}
