-- A deterministic sample of Redshift's TICKIT schema (users, venue, category,
-- date, event, listing, sales): the same rows on every run, generated in SQL.
create table users (
  userid integer not null primary key, username char(8), firstname varchar(30),
  lastname varchar(30), city varchar(30), state char(2), email varchar(100), phone char(14),
  likesports boolean, liketheatre boolean, likeconcerts boolean, likejazz boolean,
  likeclassical boolean, likeopera boolean, likerock boolean, likevegas boolean,
  likebroadway boolean, likemusicals boolean);
insert into users
select g,
  'U' || lpad(g::text, 7, '0'),
  (array['Rafael','Vladimir','Lars','Barry','Reagan','Victor','Tamekah','Colton','Mufutau','Naida',
         'Hiram','Shellie','Fay','Lucy','Ursa','Kasimir','Deanna','Amos','Zorita','Mona'])[1 + g % 20],
  (array['Taylor','Humphrey','Ratliff','Roy','Hodge','Hernandez','Juarez','Roy','Watkins','Calderon',
         'Mcdowell','Mccray','Vazquez','Holman','Bird','Cherry','Frost','Burt','Henson','Ward'])[1 + (g * 7) % 20],
  (array['Kent','Augusta','Stamford','Bolingbrook','Mansfield','Orlando','Carson','Tampa','Reno','Juneau'])[1 + (g * 3) % 10],
  (array['WA','ME','MD','IL','NY','FL','NV','SC','GA','AK'])[1 + (g * 3) % 10],
  'user' || g || '@example.com',
  '(' || lpad((200 + g % 700)::text, 3, '0') || ') ' || lpad((g * 37 % 1000)::text, 3, '0') || '-' || lpad((g * 53 % 10000)::text, 4, '0'),
  case when g % 3 = 0 then null else g % 2 = 0 end,
  g % 5 = 0, g % 7 < 3, case when g % 11 = 0 then null else g % 4 = 1 end,
  g % 6 = 2, g % 9 = 4, g % 2 = 1, g % 8 = 3, g % 10 < 4, g % 13 = 7
from generate_series(1, 10000) g;

create table venue (
  venueid smallint not null primary key, venuename varchar(100), venuecity varchar(30),
  venuestate char(2), venueseats integer);
insert into venue
select g,
  (array['Arena','Stadium','Theatre','Field','Center','Hall','Park','Coliseum'])[1 + g % 8] || ' ' || g,
  (array['New York City','Chicago','Los Angeles','Houston','Phoenix','Denver','Boston','Seattle'])[1 + (g * 5) % 8],
  (array['NY','IL','CA','TX','AZ','CO','MA','WA'])[1 + (g * 5) % 8],
  case when g % 4 = 0 then null else 1000 + (g * 977) % 70000 end
from generate_series(1, 200) g;

create table category (
  catid smallint not null primary key, catgroup varchar(10), catname varchar(10), catdesc varchar(50));
insert into category values
  (1, 'Sports', 'MLB', 'Major League Baseball'),
  (2, 'Sports', 'NHL', 'National Hockey League'),
  (3, 'Sports', 'NFL', 'National Football League'),
  (4, 'Sports', 'NBA', 'National Basketball Association'),
  (5, 'Sports', 'MLS', 'Major League Soccer'),
  (6, 'Shows', 'Musicals', 'Musical theatre'),
  (7, 'Shows', 'Plays', 'All non-musical theatre'),
  (8, 'Shows', 'Opera', 'All opera and light opera'),
  (9, 'Concerts', 'Pop', 'All rock and pop music concerts'),
  (10, 'Concerts', 'Jazz', 'All jazz singers and bands'),
  (11, 'Concerts', 'Classical', 'All symphony, concerto, and choir concerts');

create table date (
  dateid smallint not null primary key, caldate date not null, day char(3) not null,
  week smallint not null, month char(5) not null, qtr char(5) not null, year smallint not null,
  holiday boolean default false);
insert into date
select 1827 + g, d::date, to_char(d, 'DY'), extract(week from d)::smallint, to_char(d, 'MON'),
  extract(quarter from d)::text, extract(year from d)::smallint,
  to_char(d, 'MM-DD') in ('01-01', '07-04', '12-25', '11-27', '05-26', '09-01')
from generate_series(0, 364) g, lateral (select date '2008-01-01' + g as d) x;

create table event (
  eventid integer not null primary key, venueid smallint not null, catid smallint not null,
  dateid smallint not null, eventname varchar(200), starttime timestamp);
insert into event
select g, 1 + (g * 13) % 200, 1 + (g * 7) % 11, 1827 + (g * 31) % 365,
  (array['Gotterdammerung','Mamma Mia!','The Birds','Hamlet','Wicked','Macbeth','Jersey Boys',
         'Rent','Cats','Tosca','Shrek the Musical','Legally Blonde'])[1 + g % 12] || ' ' || (g % 97),
  timestamp '2008-01-01 14:30:00' + ((g * 31) % 365) * interval '1 day' + (g % 7) * interval '90 minutes'
from generate_series(1, 8000) g;

create table listing (
  listid integer not null primary key, sellerid integer not null, eventid integer not null,
  dateid smallint not null, numtickets smallint not null, priceperticket decimal(8,2),
  totalprice decimal(8,2), listtime timestamp);
insert into listing
select g, 1 + (g * 17) % 10000, 1 + (g * 29) % 8000, 1827 + (g * 11) % 365, 1 + g % 30,
  p, p * (1 + g % 30), timestamp '2008-01-01 00:00:00' + ((g * 11) % 365) * interval '1 day' + (g % 86400) * interval '1 second'
from generate_series(1, 40000) g, lateral (select (20 + (g * 7919) % 98000 / 100.0)::decimal(8,2) as p) x;

create table sales (
  salesid integer not null primary key, listid integer not null, sellerid integer not null,
  buyerid integer not null, eventid integer not null, dateid smallint not null,
  qtysold smallint not null, pricepaid decimal(8,2), commission decimal(8,2), saletime timestamp);
insert into sales
select g, l.listid, l.sellerid, 1 + (g * 23) % 10000, l.eventid, l.dateid, q,
  l.priceperticket * q, round(l.priceperticket * q * 0.15, 2), l.listtime + (g % 1000) * interval '1 hour'
from generate_series(1, 50000) g
join listing l on l.listid = 1 + (g * 7) % 40000,
lateral (select (1 + g % 4)::smallint as q) x;

-- Foreign keys, as Redshift declares them (informational there, enforced here).
alter table event add constraint event_venue_fk foreign key (venueid) references venue (venueid);
alter table event add constraint event_category_fk foreign key (catid) references category (catid);
alter table event add constraint event_date_fk foreign key (dateid) references date (dateid);
alter table listing add constraint listing_event_fk foreign key (eventid) references event (eventid);
alter table sales add constraint sales_listing_fk foreign key (listid) references listing (listid);
alter table sales add constraint sales_event_fk foreign key (eventid) references event (eventid);

analyze;
