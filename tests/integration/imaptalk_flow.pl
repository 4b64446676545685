#!/usr/bin/perl
# Core IMAP flow with a second real client, Mail::IMAPTalk, driven by
# test_imap_imaptalk.py.  Usage: imaptalk_flow.pl PORT USER PASSWORD
# Prints "ok <step>" per step and dies with a reason on the first failure.
use strict;
use warnings;
use Mail::IMAPTalk;

my ($port, $user, $pass) = @ARGV;
sub check { my ($cond, $what) = @_; die "FAIL $what\n" unless $cond; print "ok $what\n"; }

my $imap = Mail::IMAPTalk->new(Server => '127.0.0.1', Port => $port, Username => $user,
                               Password => $pass, Uid => 1, UseSSL => 0)
    or die "FAIL connect/login: $@\n";
check(1, 'login');

my $caps = $imap->capability();
check($caps->{idle} && $caps->{uidplus}, 'capability');

check($imap->create('Talk'), 'create');
check($imap->create('Talk/Child'), 'create child');

my $list = $imap->list('', '*');
my %names = map { $_->[2] => $_->[0] } @$list;
check(exists $names{'Talk/Child'} && grep({ lc($_) eq 'inbox' } keys %names), 'list');
check(grep(/haschildren/i, @{$names{'Talk'}}), 'list children attribute');

my $msg = "From: perl\@example.com\r\nTo: $user\@example.com\r\nSubject: from IMAPTalk\r\n"
        . "Message-ID: <talk\@example.com>\r\n\r\nHello from Perl.\r\n";
check($imap->append('Talk', { Literal => $msg }), 'append');
$imap->append('Talk', '(\\Flagged)', { Literal => $msg =~ s/from IMAPTalk/second/r });

my $st = $imap->status('Talk', '(messages unseen uidnext)');
check($st->{messages} == 2 && $st->{unseen} == 2 && $st->{uidnext} == 3, 'status');

check($imap->select('Talk'), 'select');
check($imap->get_response_code('exists') == 2, 'exists after select');
check($imap->get_response_code('uidvalidity') > 0, 'uidvalidity');

my $res = $imap->fetch('1:*', '(uid flags envelope rfc822.size)');
check(scalar(keys %$res) == 2, 'fetch two messages');
check($res->{1}{envelope}{Subject} eq 'from IMAPTalk', 'envelope subject');
check(grep(/\\flagged/i, @{$res->{2}{flags}}), 'flags from append');

my $body = $imap->fetch(1, 'body.peek[text]');
check($body->{1}{body} =~ /Hello from Perl/, 'body text');

my $found = $imap->search('subject', 'second');
check(@$found == 1 && $found->[0] == 2, 'search');

check($imap->store(1, '+flags', '(\\Seen \\Answered)'), 'store');
$res = $imap->fetch(1, 'flags');
check(grep(/\\answered/i, @{$res->{1}{flags}}), 'flags after store');

check($imap->copy(1, 'Talk/Child'), 'copy');
check($imap->move(2, 'INBOX'), 'move');
$res = $imap->fetch('1:*', 'uid');
check(scalar(keys %$res) == 1, 'move removed the source');

$imap->store(1, '+flags', '(\\Deleted)');
check($imap->expunge(), 'expunge');
$st = $imap->status('Talk/Child', '(messages)');
check($st->{messages} == 1, 'copy landed');
$imap->unselect();

check($imap->rename('Talk', 'Spoken'), 'rename');
$list = $imap->list('', 'Spoken*');
check(scalar(@$list) == 2, 'rename moved the child');
check($imap->delete('Spoken/Child') && $imap->delete('Spoken'), 'delete');

$imap->logout();
print "done\n";
